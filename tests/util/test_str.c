/* Tests for string views. */
#include <criterion/criterion.h>

#include "util/util.h"

Test(util_str, equality_and_order)
{
    cr_assert(str_eq(STR_LIT("abc"), str_from_cstr("abc")));
    cr_assert_not(str_eq(STR_LIT("abc"), STR_LIT("abd")));
    cr_assert(str_eq_cstr(STR_LIT(""), ""));
    cr_assert(str_cmp(STR_LIT("ab"), STR_LIT("abc")) < 0);
    cr_assert(str_cmp(STR_LIT("b"), STR_LIT("abc")) > 0);
    cr_assert_eq(str_cmp(STR_LIT("x"), STR_LIT("x")), 0);
    cr_assert(str_from_cstr(NULL).len == 0);
}
