/* Native baseline for HaMaster.Rocks.Bench: the same loops as the C# benchmark, straight
 * against librocksdb's C API, so the difference is the binding's per-call overhead.
 * Linked against the very librocksdb.so the RocksDB NuGet package ships (scripts/bench-rocks.sh),
 * so both sides run the same RocksDB build. No header is needed: the few C API functions used
 * are declared below (RocksDB's objects are opaque pointers).
 * Usage: rocks_native_bench DIR KEYS BATCH GETS ROUNDS (each get loop runs ROUNDS times; the best is printed)
 * Prints key=value lines that the C# benchmark parses. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rocksdb_t rocksdb_t;
typedef struct rocksdb_options_t rocksdb_options_t;
typedef struct rocksdb_block_based_table_options_t rocksdb_block_based_table_options_t;
typedef struct rocksdb_cache_t rocksdb_cache_t;
typedef struct rocksdb_filterpolicy_t rocksdb_filterpolicy_t;
typedef struct rocksdb_writeoptions_t rocksdb_writeoptions_t;
typedef struct rocksdb_readoptions_t rocksdb_readoptions_t;
typedef struct rocksdb_flushoptions_t rocksdb_flushoptions_t;
typedef struct rocksdb_writebatch_t rocksdb_writebatch_t;
typedef struct rocksdb_pinnableslice_t rocksdb_pinnableslice_t;
enum { rocksdb_lz4_compression = 4 };

rocksdb_options_t *rocksdb_options_create(void);
void rocksdb_options_destroy(rocksdb_options_t *);
void rocksdb_options_set_create_if_missing(rocksdb_options_t *, unsigned char);
void rocksdb_options_set_max_background_jobs(rocksdb_options_t *, int);
void rocksdb_options_set_write_buffer_size(rocksdb_options_t *, size_t);
void rocksdb_options_set_compression(rocksdb_options_t *, int);
void rocksdb_options_set_block_based_table_factory(rocksdb_options_t *, rocksdb_block_based_table_options_t *);
rocksdb_block_based_table_options_t *rocksdb_block_based_options_create(void);
void rocksdb_block_based_options_destroy(rocksdb_block_based_table_options_t *);
void rocksdb_block_based_options_set_block_cache(rocksdb_block_based_table_options_t *, rocksdb_cache_t *);
void rocksdb_block_based_options_set_filter_policy(rocksdb_block_based_table_options_t *, rocksdb_filterpolicy_t *);
rocksdb_filterpolicy_t *rocksdb_filterpolicy_create_bloom_full(double);
rocksdb_cache_t *rocksdb_cache_create_lru(size_t);
void rocksdb_cache_destroy(rocksdb_cache_t *);
rocksdb_t *rocksdb_open(const rocksdb_options_t *, const char *, char **);
void rocksdb_close(rocksdb_t *);
rocksdb_writeoptions_t *rocksdb_writeoptions_create(void);
void rocksdb_writeoptions_destroy(rocksdb_writeoptions_t *);
rocksdb_readoptions_t *rocksdb_readoptions_create(void);
void rocksdb_readoptions_destroy(rocksdb_readoptions_t *);
rocksdb_flushoptions_t *rocksdb_flushoptions_create(void);
void rocksdb_flushoptions_destroy(rocksdb_flushoptions_t *);
void rocksdb_flushoptions_set_wait(rocksdb_flushoptions_t *, unsigned char);
void rocksdb_flush(rocksdb_t *, const rocksdb_flushoptions_t *, char **);
rocksdb_writebatch_t *rocksdb_writebatch_create(void);
void rocksdb_writebatch_destroy(rocksdb_writebatch_t *);
void rocksdb_writebatch_clear(rocksdb_writebatch_t *);
int rocksdb_writebatch_count(rocksdb_writebatch_t *);
void rocksdb_writebatch_put(rocksdb_writebatch_t *, const char *, size_t, const char *, size_t);
void rocksdb_write(rocksdb_t *, const rocksdb_writeoptions_t *, rocksdb_writebatch_t *, char **);
char *rocksdb_get(rocksdb_t *, const rocksdb_readoptions_t *, const char *, size_t, size_t *, char **);
rocksdb_pinnableslice_t *rocksdb_get_pinned(rocksdb_t *, const rocksdb_readoptions_t *, const char *, size_t, char **);
const char *rocksdb_pinnableslice_value(const rocksdb_pinnableslice_t *, size_t *);
void rocksdb_pinnableslice_destroy(rocksdb_pinnableslice_t *);
void rocksdb_free(void *);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(char *err, const char *what) {
  if (err != NULL) {
    fprintf(stderr, "%s: %s\n", what, err);
    exit(1);
  }
}

/* "key" + 10 zero-padded digits, formatted by hand like the C# side (snprintf would cost more). */
static int make_key(char *dst, long k) {
  dst[0] = 'k'; dst[1] = 'e'; dst[2] = 'y';
  for (int i = 12; i >= 3; i--) {
    dst[i] = (char)('0' + k % 10);
    k /= 10;
  }
  return 13;
}

/* Same generator as the C# side (64-bit LCG, Knuth's MMIX constants). */
static uint64_t lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s DIR KEYS BATCH GETS ROUNDS\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  long keys = atol(argv[2]), batch_size = atol(argv[3]), gets = atol(argv[4]), rounds = atol(argv[5]);
  char *err = NULL;

  rocksdb_options_t *opt = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(opt, 1);
  rocksdb_options_set_max_background_jobs(opt, 2);
  rocksdb_options_set_write_buffer_size(opt, 64u << 20);
  rocksdb_options_set_compression(opt, rocksdb_lz4_compression);
  rocksdb_block_based_table_options_t *table = rocksdb_block_based_options_create();
  rocksdb_cache_t *cache = rocksdb_cache_create_lru(64u << 20);
  rocksdb_block_based_options_set_block_cache(table, cache);
  rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(10));
  rocksdb_options_set_block_based_table_factory(opt, table);
  rocksdb_t *db = rocksdb_open(opt, dir, &err);
  check(err, "open");

  rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
  rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
  rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
  char key[32], value[100];
  memset(value, 'v', sizeof value);

  double t0 = now_ns();
  for (long k = 0; k < keys;) {
    rocksdb_writebatch_clear(wb);
    for (long i = 0; i < batch_size && k < keys; i++, k++) {
      int n = make_key(key, k);
      rocksdb_writebatch_put(wb, key, (size_t)n, value, sizeof value);
    }
    rocksdb_write(db, wo, wb, &err);
    check(err, "write");
  }
  double put_ns = (now_ns() - t0) / (double)keys;

  rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
  rocksdb_flushoptions_set_wait(fo, 1);
  rocksdb_flush(db, fo, &err);
  check(err, "flush");

  uint64_t seed = 12345, checksum = 0;
  for (long i = 0; i < gets / 10; i++) { /* warm the block cache */
    int n = make_key(key, (long)(lcg(&seed) % (uint64_t)keys));
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned(db, ro, key, (size_t)n, &err);
    check(err, "get");
    rocksdb_pinnableslice_destroy(p);
  }

  char buffer[256];
  double get_pinned_ns = 1e300, get_copy_ns = 1e300;
  for (long r = 0; r < rounds; r++) {
    seed = 42;
    t0 = now_ns();
    for (long i = 0; i < gets; i++) {
      int n = make_key(key, (long)(lcg(&seed) % (uint64_t)keys));
      rocksdb_pinnableslice_t *p = rocksdb_get_pinned(db, ro, key, (size_t)n, &err);
      check(err, "get");
      size_t len;
      const char *v = rocksdb_pinnableslice_value(p, &len);
      memcpy(buffer, v, len);
      checksum += (unsigned char)buffer[len - 1];
      rocksdb_pinnableslice_destroy(p);
    }
    double ns = (now_ns() - t0) / (double)gets;
    if (ns < get_pinned_ns) get_pinned_ns = ns;

    seed = 42;
    t0 = now_ns();
    for (long i = 0; i < gets; i++) {
      int n = make_key(key, (long)(lcg(&seed) % (uint64_t)keys));
      size_t len;
      char *v = rocksdb_get(db, ro, key, (size_t)n, &len, &err);
      check(err, "get");
      checksum += (unsigned char)v[len - 1];
      rocksdb_free(v);
    }
    ns = (now_ns() - t0) / (double)gets;
    if (ns < get_copy_ns) get_copy_ns = ns;
  }

  /* The cheapest call there is (a non-inlined library call): isolates the binding's fixed cost. */
  double call_ns = 1e300;
  const long calls = 10000000;
  rocksdb_writebatch_put(wb, "k", 1, "v", 1);
  for (long r = 0; r < rounds; r++) {
    t0 = now_ns();
    for (long i = 0; i < calls; i++) {
      checksum += (uint64_t)rocksdb_writebatch_count(wb);
    }
    double ns = (now_ns() - t0) / (double)calls;
    if (ns < call_ns) call_ns = ns;
  }

  double clear_ns = 1e300;
  for (long r = 0; r < rounds; r++) {
    t0 = now_ns();
    for (long i = 0; i < calls; i++) {
      rocksdb_writebatch_clear(wb);
    }
    double ns = (now_ns() - t0) / (double)calls;
    if (ns < clear_ns) clear_ns = ns;
  }

  printf("put_ns=%.1f\nget_pinned_ns=%.1f\nget_copy_ns=%.1f\ncall_ns=%.2f\nclear_ns=%.2f\nchecksum=%llu\n", put_ns,
         get_pinned_ns, get_copy_ns, call_ns, clear_ns, (unsigned long long)checksum);

  rocksdb_flushoptions_destroy(fo);
  rocksdb_writebatch_destroy(wb);
  rocksdb_readoptions_destroy(ro);
  rocksdb_writeoptions_destroy(wo);
  rocksdb_close(db);
  rocksdb_block_based_options_destroy(table);
  rocksdb_cache_destroy(cache);
  rocksdb_options_destroy(opt);
  return 0;
}
