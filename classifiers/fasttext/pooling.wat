;; The embedding bag of the fastText-style model (model.ts) in WebAssembly SIMD: for each document,
;; the sum over its features, in order, of the feature's embedding row times the document's
;; weight (1 / its feature count, a float32). `npm run build` compiles this file to pooling.wasm
;; (bin/compile-kernels.ts, with wabt); pooling-kernel.ts loads it.
;;
;; The ONNX graph of export-onnx.ts computes the same sums with the same float32 operations in
;; the same order: its Mul rounds each product row × weight to float32, and its ScatterND adds the
;; products into a zero-filled output one at a time in feature order. f32x4.mul and f32x4.add
;; round the same way lane by lane (WebAssembly has no fused multiply-add here), so the pooled
;; rows, and the scores of the layers applied to them, are those of the whole graph bit for bit.
;;
;; Memory, for `buckets` rows of `dim` values (dim a multiple of 4) and R = 4·dim bytes a row:
;;   [0, buckets·R)   the embedding table, row b at b·R
;; and at addresses the caller passes:
;;   ids              the feature ids of every document, one after another, 4 bytes each
;;   ends             per document, the count of ids up to and including its own (i32)
;;   weights          per document, its weight (f32)
;;   out              per document, its pooled row (R bytes), written by `pool`
;;
;; A document's row is summed 16 lanes at a time in four registers, over all of its features,
;; then stored; the lanes left over (dim not a multiple of 16) 4 at a time the same way.

(module
  (memory (export "memory") 1)

  ;; Writes the pooled rows of `docs` documents to `out`. Returns -1, or the position in `ids` of
  ;; the first id that is not below `buckets` (nothing is summed then).
  (func (export "pool")
    (param $dim i32) (param $buckets i32) (param $docs i32)
    (param $ids i32) (param $ends i32) (param $weights i32) (param $out i32)
    (result i32)
    (local $R i32)          ;; bytes of one row
    (local $R16 i32)        ;; R rounded down to a multiple of 64 bytes: the part summed 16 lanes a pass
    (local $k i32)          ;; address of the current id
    (local $idsEnd i32)
    (local $d i32)          ;; the current document
    (local $first i32)      ;; address of its first id
    (local $last i32)       ;; address after its last id
    (local $o i32)          ;; address of its pooled row
    (local $c i32)          ;; byte offset in a row of the lanes being summed
    (local $row i32)        ;; address of those lanes in the current feature's row
    (local $w v128)         ;; the document's weight in every lane
    (local $a0 v128)        ;; the sums of 16 lanes
    (local $a1 v128)
    (local $a2 v128)
    (local $a3 v128)

    (local.set $R (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $R16 (i32.and (local.get $R) (i32.const -64)))

    ;; every id in range first: a row past the table would be read silently
    (block $checked
      (br_if $checked (i32.eqz (local.get $docs)))
      (local.set $k (local.get $ids))
      (local.set $idsEnd (i32.add (local.get $ids)
        (i32.shl (i32.load (i32.add (local.get $ends) (i32.shl (i32.sub (local.get $docs) (i32.const 1)) (i32.const 2)))) (i32.const 2))))
      (loop $check
        (br_if $checked (i32.ge_u (local.get $k) (local.get $idsEnd)))
        (if (i32.ge_u (i32.load (local.get $k)) (local.get $buckets))
          (then (return (i32.shr_u (i32.sub (local.get $k) (local.get $ids)) (i32.const 2)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $check)))

    (local.set $first (local.get $ids))
    (local.set $o (local.get $out))
    (block $done
      (br_if $done (i32.eqz (local.get $docs)))
      (loop $doc
        (local.set $last (i32.add (local.get $ids)
          (i32.shl (i32.load (i32.add (local.get $ends) (i32.shl (local.get $d) (i32.const 2)))) (i32.const 2))))
        (local.set $w (f32x4.splat (f32.load (i32.add (local.get $weights) (i32.shl (local.get $d) (i32.const 2))))))
        (local.set $c (i32.const 0))

        ;; 16 lanes a pass over the document's features
        (block $sixteens
          (loop $sixteen
            (br_if $sixteens (i32.ge_u (local.get $c) (local.get $R16)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $first))
            (block $features
              (loop $feature
                (br_if $features (i32.ge_u (local.get $k) (local.get $last)))
                (local.set $row (i32.add (i32.mul (i32.load (local.get $k)) (local.get $R)) (local.get $c)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $row)) (local.get $w))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $row)) (local.get $w))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $row)) (local.get $w))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $row)) (local.get $w))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $feature)))
            (v128.store (i32.add (local.get $o) (local.get $c)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $o) (local.get $c)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $o) (local.get $c)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $o) (local.get $c)) (local.get $a3))
            (local.set $c (i32.add (local.get $c) (i32.const 64)))
            (br $sixteen)))

        ;; the lanes left over, 4 a pass
        (block $fours
          (loop $four
            (br_if $fours (i32.ge_u (local.get $c) (local.get $R)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $first))
            (block $features
              (loop $feature
                (br_if $features (i32.ge_u (local.get $k) (local.get $last)))
                (local.set $row (i32.add (i32.mul (i32.load (local.get $k)) (local.get $R)) (local.get $c)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $row)) (local.get $w))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $feature)))
            (v128.store (i32.add (local.get $o) (local.get $c)) (local.get $a0))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $four)))

        (local.set $first (local.get $last))
        (local.set $o (i32.add (local.get $o) (local.get $R)))
        (br_if $doc (i32.lt_u
          (local.tee $d (i32.add (local.get $d) (i32.const 1)))
          (local.get $docs)))))
    (i32.const -1))

)
