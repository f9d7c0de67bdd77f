/*
 * keyslot.h - the Redis Cluster hash slot of a key.
 *
 * Pure: CRC16 (XMODEM) of the key's hash tag, or of the whole key when it
 * has none, modulo 16384, exactly as Redis's keyHashSlot() computes it.
 */
#ifndef SLOTLOCK_KEYSLOT_H
#define SLOTLOCK_KEYSLOT_H

#include <stdbool.h>
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

/* Hex digits keyslot_steer rewrites. */
#define KEYSLOT_STEER_DIGITS 5

/*
 * Rewrites the KEYSLOT_STEER_DIGITS lowercase hex digits at key + at so
 * that keyslot(key, len) == slot; pick chooses among the digit strings
 * that do it. key must have no hash tag (no '{'), so that all of it is
 * hashed. False, with key unchanged, when that cannot be done.
 *
 * CRC16 without initial or final XOR is linear: for messages of one
 * length, crc(a ^ b) = crc(a) ^ crc(b), and leading zero bytes add
 * nothing. So crc(key) = crc(key with "00000" there) ^ crc(digits ^
 * "00000"), and a table of the second term for every five-digit string
 * (built once, 256 KiB) gives digits for any key and slot.
 */
bool keyslot_steer(char *key, size_t len, size_t at, unsigned slot,
                   unsigned pick);

#endif
