/*
 * keyslot.h - the Redis Cluster hash slot of a key.
 *
 * Pure: CRC16 (XMODEM) of the key's hash tag, or of the whole key when it
 * has none, modulo 16384, exactly as Redis's keyHashSlot() computes it.
 */
#ifndef SLOTLOCK_KEYSLOT_H
#define SLOTLOCK_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>

#define KEYSLOT_COUNT 16384

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0. */
uint16_t keyslot_crc16(const char *buf, size_t len);

/*
 * The slot of key (len bytes). Only the part between the first '{' and the
 * first '}' after it is hashed, when that part is not empty.
 */
unsigned keyslot(const char *key, size_t len);

#endif
