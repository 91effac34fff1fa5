/* >>codecs/farmhash-impl: FarmHash's 64-bit "na" hash, written from the published algorithm:
 * inputs of 0-16, 17-32 and 33-64 bytes take short mixing paths, longer ones run a 64-byte block
 * loop over a 56-byte state and finish on the last 64 bytes. All reads are little-endian and
 * unaligned-safe (assembled byte by byte), so results do not depend on the host. */

#define EST__FH_K0 0xc3a5c85c97cb3127ull
#define EST__FH_K1 0xb492b66fbe98f273ull
#define EST__FH_K2 0x9ae16a3b2f90404full


/* Right rotation; shift is never 0 here but stay defined for it anyway. */
EST_PRIVATE uint64_t est__fh_ror(uint64_t v, int s) { return s == 0 ? v : (v >> s) | (v << (64 - s)); }

EST_PRIVATE uint64_t est__fh_shift_mix(uint64_t v) { return v ^ (v >> 47); }

/* Murmur-style mix of two words with a multiplier. */
EST_PRIVATE uint64_t est__fh_mix16(uint64_t u, uint64_t v, uint64_t mul)
{
    uint64_t a = (u ^ v) * mul, b;
    a ^= a >> 47;
    b = (v ^ a) * mul;
    b ^= b >> 47;
    return b * mul;
}

EST_PRIVATE uint64_t est__fh_0to16(const unsigned char *s, size_t len)
{
    if (len >= 8) {
        uint64_t mul = EST__FH_K2 + (uint64_t)len * 2;
        uint64_t a = est__load_le64(s) + EST__FH_K2, b = est__load_le64(s + len - 8);
        uint64_t c = est__fh_ror(b, 37) * mul + a, d = (est__fh_ror(a, 25) + b) * mul;
        return est__fh_mix16(c, d, mul);
    }
    if (len >= 4) {
        uint64_t mul = EST__FH_K2 + (uint64_t)len * 2;
        uint64_t a = (uint64_t)est__load_le32(s);
        return est__fh_mix16((uint64_t)len + (a << 3), (uint64_t)est__load_le32(s + len - 4), mul);
    }
    if (len > 0) {
        /* 32-bit arithmetic for y and z, as the reference does */
        uint32_t y = (uint32_t)s[0] + ((uint32_t)s[len >> 1] << 8);
        uint32_t z = (uint32_t)len + ((uint32_t)s[len - 1] << 2);
        return est__fh_shift_mix((uint64_t)y * EST__FH_K2 ^ (uint64_t)z * EST__FH_K0) * EST__FH_K2;
    }
    return EST__FH_K2;
}

EST_PRIVATE uint64_t est__fh_17to32(const unsigned char *s, size_t len)
{
    uint64_t mul = EST__FH_K2 + (uint64_t)len * 2;
    uint64_t a = est__load_le64(s) * EST__FH_K1, b = est__load_le64(s + 8);
    uint64_t c = est__load_le64(s + len - 8) * mul, d = est__load_le64(s + len - 16) * EST__FH_K2;
    return est__fh_mix16(est__fh_ror(a + b, 43) + est__fh_ror(c, 30) + d, a + est__fh_ror(b + EST__FH_K2, 18) + c,
                         mul);
}

EST_PRIVATE uint64_t est__fh_33to64(const unsigned char *s, size_t len)
{
    uint64_t mul = EST__FH_K2 + (uint64_t)len * 2;
    uint64_t a = est__load_le64(s) * EST__FH_K2, b = est__load_le64(s + 8);
    uint64_t c = est__load_le64(s + len - 8) * mul, d = est__load_le64(s + len - 16) * EST__FH_K2;
    uint64_t y = est__fh_ror(a + b, 43) + est__fh_ror(c, 30) + d;
    uint64_t z = est__fh_mix16(y, a + est__fh_ror(b + EST__FH_K2, 18) + c, mul);
    uint64_t e = est__load_le64(s + 16) * mul, f = est__load_le64(s + 24);
    uint64_t g = (y + est__load_le64(s + len - 32)) * mul, h = (z + est__load_le64(s + len - 24)) * mul;
    return est__fh_mix16(est__fh_ror(e + f, 43) + est__fh_ror(g, 30) + h, e + est__fh_ror(f + a, 18) + g, mul);
}

/* 16 bytes of state from 32 input bytes and two seeds: *p0, *p1 receive the pair. */
EST_PRIVATE void est__fh_weak32(const unsigned char *s, uint64_t a, uint64_t b, uint64_t *p0, uint64_t *p1)
{
    uint64_t w = est__load_le64(s), x = est__load_le64(s + 8), y = est__load_le64(s + 16);
    uint64_t z = est__load_le64(s + 24), c;
    a += w;
    b = est__fh_ror(b + a + z, 21);
    c = a;
    a += x;
    a += y;
    b += est__fh_ror(a, 44);
    *p0 = a + z;
    *p1 = b + c;
}

EST_API uint64_t est_fingerprint64(const void *data, size_t len)
{
    const unsigned char *s = (const unsigned char *)data, *end, *last64;
    uint64_t x, y, z, v0 = 0, v1 = 0, w0 = 0, w1 = 0, mul, t;
    const uint64_t seed = 81;
    if (len <= 16) return est__fh_0to16(s, len);
    if (len <= 32) return est__fh_17to32(s, len);
    if (len <= 64) return est__fh_33to64(s, len);
    x = seed;
    y = seed * EST__FH_K1 + 113;
    z = est__fh_shift_mix(y * EST__FH_K2 + 113) * EST__FH_K2;
    x = x * EST__FH_K2 + est__load_le64(s);
    /* blocks of 64 while more than 64 bytes remain; the tail is the last 64 bytes (overlapping) */
    end = s + ((len - 1) / 64) * 64;
    last64 = s + len - 64;
    do {
        x = est__fh_ror(x + y + v0 + est__load_le64(s + 8), 37) * EST__FH_K1;
        y = est__fh_ror(y + v1 + est__load_le64(s + 48), 42) * EST__FH_K1;
        x ^= w1;
        y += v0 + est__load_le64(s + 40);
        z = est__fh_ror(z + w0, 33) * EST__FH_K1;
        est__fh_weak32(s, v1 * EST__FH_K1, x + w0, &v0, &v1);
        est__fh_weak32(s + 32, z + w1, y + est__load_le64(s + 16), &w0, &w1);
        t = z;
        z = x;
        x = t;
        s += 64;
    } while (s != end);
    mul = EST__FH_K1 + ((z & 0xff) << 1);
    s = last64;
    w0 += (uint64_t)((len - 1) & 63);
    v0 += w0;
    w0 += v0;
    x = est__fh_ror(x + y + v0 + est__load_le64(s + 8), 37) * mul;
    y = est__fh_ror(y + v1 + est__load_le64(s + 48), 42) * mul;
    x ^= w1 * 9;
    y += v0 * 9 + est__load_le64(s + 40);
    z = est__fh_ror(z + w0, 33) * mul;
    est__fh_weak32(s, v1 * mul, x + w0, &v0, &v1);
    est__fh_weak32(s + 32, z + w1, y + est__load_le64(s + 16), &w0, &w1);
    t = z;
    z = x;
    x = t;
    return est__fh_mix16(est__fh_mix16(v0, w0, mul) + est__fh_shift_mix(y) * EST__FH_K0 + z,
                         est__fh_mix16(v1, w1, mul) + x, mul);
}

EST_API uint64_t est_fingerprint_cat64(uint64_t fp1, uint64_t fp2)
{
    const uint64_t mul = 0xc6a4a7935bd1e995ull;
    uint64_t r = fp1 ^ mul;
    r ^= est__fh_shift_mix(fp2 * mul) * mul;
    r *= mul;
    r = est__fh_shift_mix(r) * mul;
    return est__fh_shift_mix(r);
}

EST_API int64_t est_hash_bucket_fast(const void *data, size_t n, int64_t num_buckets)
{
    if (num_buckets <= 0) return -1;
    return (int64_t)(est_fingerprint64(data, n) % (uint64_t)num_buckets);
}
