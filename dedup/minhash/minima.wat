;; The MinHash minimum loop of signature.ts in WebAssembly SIMD, four hash functions per
;; instruction. `npm run build` compiles this file to minima.wasm (bin/compile-kernels.ts,
;; with wabt); minima-kernel.ts loads it.
;;
;; A hash value is two 32-bit simple tabulations of the shingle's 32-bit key x:
;;   hi_k(x) = H[0][x_0][k] ^ H[1][x_1][k] ^ H[2][x_2][k] ^ H[3][x_3][k]   (x_i: byte i of x)
;; and lo_k the same over table L. hi orders the values; lo only breaks ties of hi, so it is
;; computed only where some lane's hi is not above its minimum. Every table entry has its sign bit
;; flipped, so that signed comparison orders the values as unsigned ones.
;;
;; Memory, for K hashes (K a multiple of 4) and R = 4·K bytes (the K values of one table entry):
;;   [0, T)                H, T = 1024·R bytes: entry (i, b) (byte position i, byte value b) at (256·i + b)·R
;;   [T, 2T)               L, laid out as H
;;   [2T, 2T + R)          minHi: the running minimum of hi for each of the K hashes
;;   [2T + R, 2T + 2R)     minLo: the lo of that minimum
;;   [2T + 2R, ...)        the n keys, 4 bytes each
;; The caller writes the tables once, and before each call the keys and 0x7fffffff into minHi
;; and minLo (the largest sign-flipped value).
;;
;; A group of four hashes is one step: hi (four loads, three xors) and one comparison with the
;; minima; where some lane's hi is at or below its minimum (for the n-th key of a document, about
;; 4 in n times), lo, the comparison that decides, and the stores. The step is written out four
;; times per turn of the loop, with the group's offset as the immediate of every load and store,
;; so that addresses cost one addition per four groups, not one per load. Moving the rare part
;; into a function, or testing four groups with one branch, made the loop slower (docs/throughput.md).

(module
  (memory (export "memory") 1)

  ;; Folds the n keys into minHi/minLo: a value replaces the minimum of its hash when its hi is
  ;; smaller, or equal with a smaller lo.
  (func (export "minima") (param $K i32) (param $n i32)
    (local $R i32)          ;; bytes of one table entry: K values
    (local $T i32)          ;; bytes of one table: 1024 entries
    (local $minHi i32)
    (local $key i32)        ;; address of the current key
    (local $keysEnd i32)
    (local $x i32)          ;; the current key
    (local $e0 i32)         ;; addresses of the current group in the key's four entries of H (in L: T bytes on)
    (local $e1 i32)
    (local $e2 i32)
    (local $e3 i32)
    (local $mh i32)         ;; address of the group's minima in minHi (in minLo: R bytes on)
    (local $mhEnd4 i32)     ;; where fewer than four groups are left
    (local $mhEnd i32)
    (local $h v128)         ;; hi of the group's four hashes
    (local $m v128)         ;; their minimum hi so far
    (local $l v128)         ;; their lo
    (local $ml v128)        ;; the lo of the minimum
    (local $take v128)      ;; lanes whose value is the new minimum

    (local.set $R (i32.shl (local.get $K) (i32.const 2)))
    (local.set $T (i32.shl (local.get $R) (i32.const 10)))
    (local.set $minHi (i32.shl (local.get $T) (i32.const 1)))
    (local.set $key (i32.add (local.get $minHi) (i32.shl (local.get $R) (i32.const 1))))
    (local.set $keysEnd (i32.add (local.get $key) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $mhEnd (i32.add (local.get $minHi) (local.get $R)))
    (local.set $mhEnd4 (i32.sub (local.get $mhEnd) (i32.and (local.get $R) (i32.const 63))))

    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $keys
        (local.set $x (i32.load (local.get $key)))
        ;; entry (i, byte i of x) of H starts at (256·i + byte)·R
        (local.set $e0 (i32.mul (i32.and (local.get $x) (i32.const 255)) (local.get $R)))
        (local.set $e1 (i32.mul
          (i32.add (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 255)) (i32.const 256))
          (local.get $R)))
        (local.set $e2 (i32.mul
          (i32.add (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 255)) (i32.const 512))
          (local.get $R)))
        (local.set $e3 (i32.mul
          (i32.add (i32.shr_u (local.get $x) (i32.const 24)) (i32.const 768))
          (local.get $R)))
        (local.set $mh (local.get $minHi))

        ;; four groups (16 hashes) a turn, the step written out for each
        (block $fours
          (br_if $fours (i32.ge_u (local.get $mh) (local.get $mhEnd4)))
          (loop $four
            (local.set $h
              (v128.xor
                (v128.xor (v128.load (local.get $e0)) (v128.load (local.get $e1)))
                (v128.xor (v128.load (local.get $e2)) (v128.load (local.get $e3)))))
            (local.set $m (v128.load (local.get $mh)))
            (if (v128.any_true (i32x4.le_s (local.get $h) (local.get $m)))
              (then
                (local.set $l
                  (v128.xor
                    (v128.xor
                      (v128.load (i32.add (local.get $e0) (local.get $T)))
                      (v128.load (i32.add (local.get $e1) (local.get $T))))
                    (v128.xor
                      (v128.load (i32.add (local.get $e2) (local.get $T)))
                      (v128.load (i32.add (local.get $e3) (local.get $T))))))
                (local.set $ml (v128.load (i32.add (local.get $mh) (local.get $R))))
                (local.set $take
                  (v128.or
                    (i32x4.lt_s (local.get $h) (local.get $m))
                    (v128.and (i32x4.eq (local.get $h) (local.get $m)) (i32x4.lt_s (local.get $l) (local.get $ml)))))
                (v128.store (local.get $mh) (v128.bitselect (local.get $h) (local.get $m) (local.get $take)))
                (v128.store (i32.add (local.get $mh) (local.get $R))
                  (v128.bitselect (local.get $l) (local.get $ml) (local.get $take)))))
            (local.set $h
              (v128.xor
                (v128.xor (v128.load offset=16 (local.get $e0)) (v128.load offset=16 (local.get $e1)))
                (v128.xor (v128.load offset=16 (local.get $e2)) (v128.load offset=16 (local.get $e3)))))
            (local.set $m (v128.load offset=16 (local.get $mh)))
            (if (v128.any_true (i32x4.le_s (local.get $h) (local.get $m)))
              (then
                (local.set $l
                  (v128.xor
                    (v128.xor
                      (v128.load offset=16 (i32.add (local.get $e0) (local.get $T)))
                      (v128.load offset=16 (i32.add (local.get $e1) (local.get $T))))
                    (v128.xor
                      (v128.load offset=16 (i32.add (local.get $e2) (local.get $T)))
                      (v128.load offset=16 (i32.add (local.get $e3) (local.get $T))))))
                (local.set $ml (v128.load offset=16 (i32.add (local.get $mh) (local.get $R))))
                (local.set $take
                  (v128.or
                    (i32x4.lt_s (local.get $h) (local.get $m))
                    (v128.and (i32x4.eq (local.get $h) (local.get $m)) (i32x4.lt_s (local.get $l) (local.get $ml)))))
                (v128.store offset=16 (local.get $mh) (v128.bitselect (local.get $h) (local.get $m) (local.get $take)))
                (v128.store offset=16 (i32.add (local.get $mh) (local.get $R))
                  (v128.bitselect (local.get $l) (local.get $ml) (local.get $take)))))
            (local.set $h
              (v128.xor
                (v128.xor (v128.load offset=32 (local.get $e0)) (v128.load offset=32 (local.get $e1)))
                (v128.xor (v128.load offset=32 (local.get $e2)) (v128.load offset=32 (local.get $e3)))))
            (local.set $m (v128.load offset=32 (local.get $mh)))
            (if (v128.any_true (i32x4.le_s (local.get $h) (local.get $m)))
              (then
                (local.set $l
                  (v128.xor
                    (v128.xor
                      (v128.load offset=32 (i32.add (local.get $e0) (local.get $T)))
                      (v128.load offset=32 (i32.add (local.get $e1) (local.get $T))))
                    (v128.xor
                      (v128.load offset=32 (i32.add (local.get $e2) (local.get $T)))
                      (v128.load offset=32 (i32.add (local.get $e3) (local.get $T))))))
                (local.set $ml (v128.load offset=32 (i32.add (local.get $mh) (local.get $R))))
                (local.set $take
                  (v128.or
                    (i32x4.lt_s (local.get $h) (local.get $m))
                    (v128.and (i32x4.eq (local.get $h) (local.get $m)) (i32x4.lt_s (local.get $l) (local.get $ml)))))
                (v128.store offset=32 (local.get $mh) (v128.bitselect (local.get $h) (local.get $m) (local.get $take)))
                (v128.store offset=32 (i32.add (local.get $mh) (local.get $R))
                  (v128.bitselect (local.get $l) (local.get $ml) (local.get $take)))))
            (local.set $h
              (v128.xor
                (v128.xor (v128.load offset=48 (local.get $e0)) (v128.load offset=48 (local.get $e1)))
                (v128.xor (v128.load offset=48 (local.get $e2)) (v128.load offset=48 (local.get $e3)))))
            (local.set $m (v128.load offset=48 (local.get $mh)))
            (if (v128.any_true (i32x4.le_s (local.get $h) (local.get $m)))
              (then
                (local.set $l
                  (v128.xor
                    (v128.xor
                      (v128.load offset=48 (i32.add (local.get $e0) (local.get $T)))
                      (v128.load offset=48 (i32.add (local.get $e1) (local.get $T))))
                    (v128.xor
                      (v128.load offset=48 (i32.add (local.get $e2) (local.get $T)))
                      (v128.load offset=48 (i32.add (local.get $e3) (local.get $T))))))
                (local.set $ml (v128.load offset=48 (i32.add (local.get $mh) (local.get $R))))
                (local.set $take
                  (v128.or
                    (i32x4.lt_s (local.get $h) (local.get $m))
                    (v128.and (i32x4.eq (local.get $h) (local.get $m)) (i32x4.lt_s (local.get $l) (local.get $ml)))))
                (v128.store offset=48 (local.get $mh) (v128.bitselect (local.get $h) (local.get $m) (local.get $take)))
                (v128.store offset=48 (i32.add (local.get $mh) (local.get $R))
                  (v128.bitselect (local.get $l) (local.get $ml) (local.get $take)))))
            (local.set $e0 (i32.add (local.get $e0) (i32.const 64)))
            (local.set $e1 (i32.add (local.get $e1) (i32.const 64)))
            (local.set $e2 (i32.add (local.get $e2) (i32.const 64)))
            (local.set $e3 (i32.add (local.get $e3) (i32.const 64)))
            (br_if $four (i32.lt_u
              (local.tee $mh (i32.add (local.get $mh) (i32.const 64)))
              (local.get $mhEnd4)))))

        ;; the groups left over (K not a multiple of 16), one a turn
        (block $ones
          (br_if $ones (i32.ge_u (local.get $mh) (local.get $mhEnd)))
          (loop $one
            (local.set $h
              (v128.xor
                (v128.xor (v128.load (local.get $e0)) (v128.load (local.get $e1)))
                (v128.xor (v128.load (local.get $e2)) (v128.load (local.get $e3)))))
            (local.set $m (v128.load (local.get $mh)))
            (if (v128.any_true (i32x4.le_s (local.get $h) (local.get $m)))
              (then
                (local.set $l
                  (v128.xor
                    (v128.xor
                      (v128.load (i32.add (local.get $e0) (local.get $T)))
                      (v128.load (i32.add (local.get $e1) (local.get $T))))
                    (v128.xor
                      (v128.load (i32.add (local.get $e2) (local.get $T)))
                      (v128.load (i32.add (local.get $e3) (local.get $T))))))
                (local.set $ml (v128.load (i32.add (local.get $mh) (local.get $R))))
                (local.set $take
                  (v128.or
                    (i32x4.lt_s (local.get $h) (local.get $m))
                    (v128.and (i32x4.eq (local.get $h) (local.get $m)) (i32x4.lt_s (local.get $l) (local.get $ml)))))
                (v128.store (local.get $mh) (v128.bitselect (local.get $h) (local.get $m) (local.get $take)))
                (v128.store (i32.add (local.get $mh) (local.get $R))
                  (v128.bitselect (local.get $l) (local.get $ml) (local.get $take)))))
            (local.set $e0 (i32.add (local.get $e0) (i32.const 16)))
            (local.set $e1 (i32.add (local.get $e1) (i32.const 16)))
            (local.set $e2 (i32.add (local.get $e2) (i32.const 16)))
            (local.set $e3 (i32.add (local.get $e3) (i32.const 16)))
            (br_if $one (i32.lt_u
              (local.tee $mh (i32.add (local.get $mh) (i32.const 16)))
              (local.get $mhEnd)))))

        (br_if $keys (i32.lt_u
          (local.tee $key (i32.add (local.get $key) (i32.const 4)))
          (local.get $keysEnd))))))

)
