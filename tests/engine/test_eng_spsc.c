/* test_eng_spsc.c: the lock-free SPSC queue. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>

#include "engine/eng_err.h"
#include "engine/eng_spsc.h"

Test(eng_spsc, create_refuses_bad_capacity_and_item_size) {
  eng_spsc *q = (eng_spsc *) 1;
  cr_expect_eq(eng_spsc_create(8, 3, &q), ENG_ERR_INVALID);
  cr_expect_null(q);
  cr_expect_eq(eng_spsc_create(8, 1, &q), ENG_ERR_INVALID);
  cr_expect_eq(eng_spsc_create(0, 8, &q), ENG_ERR_INVALID);
  cr_expect_eq(eng_spsc_create(ENG_SPSC_MAX_ITEM + 1, 8, &q), ENG_ERR_INVALID);
  cr_expect_eq(eng_spsc_create(8, 8, NULL), ENG_ERR_INVALID);
  eng_spsc_destroy(NULL);
}

Test(eng_spsc, pop_returns_items_in_push_order) {
  eng_spsc *q = NULL;
  cr_assert_eq(eng_spsc_create(sizeof(int), 8, &q), ENG_OK);
  for (int i = 0; i < 5; i++)
    cr_assert(eng_spsc_push(q, &i));
  cr_expect_eq(eng_spsc_read_space(q), 5);
  for (int i = 0; i < 5; i++) {
    int v = -1;
    cr_assert(eng_spsc_pop(q, &v));
    cr_expect_eq(v, i);
  }
  eng_spsc_destroy(q);
}

Test(eng_spsc, push_fails_when_full_and_pop_fails_when_empty) {
  eng_spsc *q = NULL;
  cr_assert_eq(eng_spsc_create(sizeof(uint64_t), 4, &q), ENG_OK);
  uint64_t v = 7;
  cr_expect_not(eng_spsc_pop(q, &v), "empty queue pops nothing");
  cr_expect_eq(v, 7, "failed pop leaves the item untouched");
  for (uint64_t i = 0; i < 4; i++)
    cr_assert(eng_spsc_push(q, &i));
  cr_expect_eq(eng_spsc_write_space(q), 0);
  uint64_t extra = 99;
  cr_expect_not(eng_spsc_push(q, &extra), "full queue refuses");
  cr_assert(eng_spsc_pop(q, &v));
  cr_expect_eq(v, 0);
  cr_expect(eng_spsc_push(q, &extra), "one slot freed, one push fits");
  for (uint64_t want = 1; want < 4; want++) {
    cr_assert(eng_spsc_pop(q, &v));
    cr_expect_eq(v, want);
  }
  cr_assert(eng_spsc_pop(q, &v));
  cr_expect_eq(v, 99);
  cr_expect_not(eng_spsc_pop(q, &v));
  eng_spsc_destroy(q);
}

Test(eng_spsc, indices_wrap_around_many_times) {
  eng_spsc *q = NULL;
  cr_assert_eq(eng_spsc_create(3, 2, &q), ENG_OK); /* odd item size on purpose */
  for (int i = 0; i < 1000; i++) {
    unsigned char in[3] = {(unsigned char) i, (unsigned char) (i >> 8), 0xAB}, out[3] = {0};
    cr_assert(eng_spsc_push(q, in));
    cr_assert(eng_spsc_pop(q, out));
    cr_assert_arr_eq(in, out, 3);
  }
  eng_spsc_destroy(q);
}

#define STRESS_ITEMS 2000000u

typedef struct stress_item {
  uint64_t seq;  /* 0, 1, 2, ... */
  uint64_t twin; /* ~seq, catches torn items */
} stress_item;

static void *stress_producer(void *arg) {
  eng_spsc *q = arg;
  for (uint64_t i = 0; i < STRESS_ITEMS;) {
    stress_item it = {i, ~i};
    if (eng_spsc_push(q, &it)) i++;
  }
  return NULL;
}

Test(eng_spsc, two_threads_move_two_million_items_in_order) {
  eng_spsc *q = NULL;
  cr_assert_eq(eng_spsc_create(sizeof(stress_item), 64, &q), ENG_OK);
  pthread_t producer;
  cr_assert_eq(pthread_create(&producer, NULL, stress_producer, q), 0);
  uint64_t next = 0, bad = 0;
  while (next < STRESS_ITEMS) {
    stress_item it;
    if (!eng_spsc_pop(q, &it)) continue;
    if (it.seq != next || it.twin != ~next) bad++;
    next++;
  }
  pthread_join(producer, NULL);
  cr_expect_eq(bad, 0, "%llu items out of order or torn", (unsigned long long) bad);
  cr_expect_eq(eng_spsc_read_space(q), 0);
  eng_spsc_destroy(q);
}
