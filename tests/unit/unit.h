/*
 * unit.h - what every Check test program shares.
 */
#ifndef SLOTLOCK_UNIT_H
#define SLOTLOCK_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Runs every test of s; the exit status says whether all passed. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
