// gomemcache (golang-github-bradfitz-gomemcache-dev) against SERVER: every
// call it has. Prints "ok|fail|skip NAME [why]" lines (clientlib.py).
// Built by test_clients_go.py at test time, offline, from /usr/share/gocode.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

const p = "go:"

func check(name string, fn func() error) {
	if err := fn(); err != nil {
		fmt.Printf("fail %s %s\n", name,
			strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	fmt.Printf("ok %s\n", name)
}

func expect(cond bool, what string, args ...interface{}) error {
	if !cond {
		return fmt.Errorf(what, args...)
	}
	return nil
}

func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func main() {
	c := memcache.New(os.Args[1])
	c.Timeout = 3 * time.Second
	get := func(k string) string {
		it, err := c.Get(k)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(it.Value)
	}
	check("set_get", func() error {
		return first(c.Set(&memcache.Item{Key: p + "k1", Value: []byte("v1")}),
			expect(get(p+"k1") == "v1", "get"),
			expect(get(p+"absent") == "<"+memcache.ErrCacheMiss.Error()+">",
				"miss"))
	})
	check("add", func() error {
		e1 := c.Add(&memcache.Item{Key: p + "k1", Value: []byte("x")})
		e2 := c.Add(&memcache.Item{Key: p + "k2", Value: []byte("x")})
		return first(expect(e1 == memcache.ErrNotStored, "add existing: %v",
			e1), e2)
	})
	check("replace", func() error {
		e1 := c.Replace(&memcache.Item{Key: p + "k2", Value: []byte("y")})
		e2 := c.Replace(&memcache.Item{Key: p + "nope", Value: []byte("y")})
		return first(e1, expect(e2 == memcache.ErrNotStored,
			"replace missing: %v", e2))
	})
	fmt.Println("skip append_prepend gomemcache has no append/prepend")
	check("cas", func() error {
		c.Set(&memcache.Item{Key: p + "c", Value: []byte("1")})
		it, err := c.Get(p + "c")
		if err != nil {
			return err
		}
		old := *it
		it.Value = []byte("2")
		old.Value = []byte("3")
		e1 := c.CompareAndSwap(it)
		e2 := c.CompareAndSwap(&old)
		return first(e1, expect(e2 == memcache.ErrCASConflict,
			"cas stale: %v", e2), expect(get(p+"c") == "2", "value"))
	})
	check("delete", func() error {
		c.Set(&memcache.Item{Key: p + "d", Value: []byte("1")})
		e1 := c.Delete(p + "d")
		e2 := c.Delete(p + "d")
		return first(e1, expect(e2 == memcache.ErrCacheMiss,
			"delete missing: %v", e2))
	})
	check("incr_decr", func() error {
		c.Set(&memcache.Item{Key: p + "n", Value: []byte("10")})
		a, e1 := c.Increment(p+"n", 5)
		b, e2 := c.Decrement(p+"n", 3)
		_, e3 := c.Increment(p+"nope", 1)
		return first(e1, e2, expect(a == 15 && b == 12, "%d %d", a, b),
			expect(e3 == memcache.ErrCacheMiss, "incr missing: %v", e3))
	})
	check("touch", func() error {
		e1 := c.Touch(p+"n", 100)
		e2 := c.Touch(p+"nope", 100)
		return first(e1, expect(e2 == memcache.ErrCacheMiss,
			"touch missing: %v", e2))
	})
	check("get_multi", func() error {
		var keys []string
		for i := 0; i < 30; i++ {
			k := fmt.Sprintf("%sm%d", p, i)
			keys = append(keys, k)
			if err := c.Set(&memcache.Item{Key: k,
				Value: []byte(fmt.Sprintf("v%d", i))}); err != nil {
				return err
			}
		}
		got, err := c.GetMulti(append(keys, p+"absent"))
		if err != nil {
			return err
		}
		for i, k := range keys {
			if it := got[k]; it == nil || string(it.Value) !=
				fmt.Sprintf("v%d", i) {
				return errors.New("GetMulti lacks " + k)
			}
		}
		return expect(len(got) == 30, "GetMulti: %d of 30", len(got))
	})
	for _, g := range []string{"stats", "stats_settings", "stats_items",
		"stats_slabs", "stats_sizes", "stats_conns"} {
		fmt.Printf("skip %s gomemcache has no stats call\n", g)
	}
	fmt.Println("skip all_keys gomemcache has no call that lists keys")
	check("flush_all", func() error {
		c.Set(&memcache.Item{Key: p + "f", Value: []byte("1")})
		e1 := c.FlushAll()
		e2 := c.DeleteAll()
		return first(e1, e2, expect(get(p+"f") ==
			"<"+memcache.ErrCacheMiss.Error()+">", "flushed"))
	})
	fmt.Println("skip binary_fails_fast gomemcache speaks the text " +
		"protocol only")
}
