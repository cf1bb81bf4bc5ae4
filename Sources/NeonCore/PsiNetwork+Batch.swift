/// Psi on several samples at once (one thread): every conv layer is one GEMM over the samples'
/// im2col columns side by side (O x K @ K x nP), forward and backward, instead of one GEMM per
/// sample; GEMMs with n times more columns run closer to the sgemm ceiling (block 5 of VGG-16 has
/// only 3 x 3 ... 6 x 6 positions per sample). The other layers run per sample. Results equal the
/// per-sample path up to the GEMM's summation order (each column is still one sample's). A conv
/// layer whose rule does not take the basic form for some pair (`BasicFormRule`) runs per pair.
extension PsiNetwork {
    /// Shared buffers of a batch of up to `samples` samples.
    public final class Batch: @unchecked Sendable {
        let samples: Int
        let cols: UnsafeMutablePointer<T>
        let tmp: UnsafeMutablePointer<T>

        init(samples: Int, cols: Int, outputs: Int) {
            self.samples = samples
            self.cols = .allocate(capacity: max(1, cols * samples))
            tmp = .allocate(capacity: max(1, outputs * samples))
        }

        deinit {
            cols.deallocate()
            tmp.deallocate()
        }
    }

    public func makeBatch(samples: Int) -> Batch { Batch(samples: samples, cols: colsCount, outputs: maxCount) }

    /// Relevance buffers only (r0, r1, z; im2col columns on first use) for one (sample, target) pair
    /// of a batched backward pass.
    public func makeScratch() -> Workspace { Workspace(activations: 1, cols: colsCount, maxCount: maxCount) }

    /// Forward passes of xs.count samples; sample s's activations go to ws[s].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(batch xs: [UnsafePointer<T>], _ ws: [Workspace], _ b: Batch) {
        precondition(xs.count <= b.samples && ws.count >= xs.count)
        let n = xs.count
        for s in 0..<n { ws[s].activations.update(from: xs[s], count: shapes[0].count) }
        for i in layers.indices {
            if case .conv2d(let l) = layers[i] {
                convolve(i, l, inputs: (0..<n).map { UnsafePointer(ws[$0].activations + offsets[i]) }, modified: false, b)
                let P = preparedGeometry(i).columns, ld = n * P
                let bias = preparedBias(i, modified: false)
                for s in 0..<n {
                    let out = ws[s].activations + offsets[i + 1]
                    for o in 0..<l.outChannels {
                        let src = b.tmp + o * ld + s * P, dst = out + o * P, bo = bias[o]
                        for j in 0..<P { dst[j] = src[j] + bo }
                    }
                }
            } else {
                for s in 0..<n { applyLayer(i, ws[s].activations + offsets[i], ws[s].activations + offsets[i + 1], ws[s]) }
            }
        }
    }

    /// b.tmp (O x nP) <- w (or w') @ [im2col(input_0) ... im2col(input_n-1)], without bias.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func convolve(_ i: Int, _ l: Conv2DLayer, inputs: [UnsafePointer<T>], modified: Bool, _ b: Batch) {
        let g = preparedGeometry(i), n = inputs.count, ld = n * g.columns
        for s in 0..<n { Im2col.im2col(inputs[s], g, into: b.cols + s * g.columns, ld: ld) }
        withWeights(i, modified: modified) { w in
            T.gemm(m: l.outChannels, n: ld, k: g.rows, alpha: 1, a: w, lda: g.rows, b: b.cols, ldb: ld, transposeB: false,
                   beta: 0, c: b.tmp, ldc: ld)
        }
    }

    /// LRP for several (activations, relevance on a) pairs at once; pair p's relevance on x goes
    /// to outs[p]. `scratch[p]` are relevance buffers (`makeScratch`), one per pair.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(batch relevance: [UnsafePointer<T>], activations act: [Workspace], scratch: [Workspace],
                         into outs: [UnsafeMutablePointer<T>], _ b: Batch) {
        let n = relevance.count
        precondition(n <= b.samples && act.count == n && scratch.count >= n && outs.count == n)
        var cur = (0..<n).map { scratch[$0].r0 }, next = (0..<n).map { scratch[$0].r1 }
        for p in 0..<n { cur[p].update(from: relevance[p], count: outputCount) }
        for i in layers.indices.reversed() {
            // conv layers whose rule takes the basic form for every pair: one GEMM over the pairs
            if case .conv2d(let l) = layers[i], let rule = layerRules[i] as? any BasicFormRule,
               (0..<n).allSatisfy({ p in
                   rule.takesBasicForm(step(i, act[p].activations + offsets[i], UnsafePointer(act[p].activations + offsets[i + 1]),
                                            UnsafePointer(cur[p]), next[p], scratch[p]))
               }) {
                let g = preparedGeometry(i), P = g.columns, ld = n * P
                let eps = T(rule.stabiliser)
                let xs = (0..<n).map { act[$0].activations + offsets[i] }
                // z' of every pair into tmp (O x nP), then s = R / (z' + eps sign z') in place
                if isModified(i) {
                    convolve(i, l, inputs: xs.map { UnsafePointer($0) }, modified: true, b)
                    let bias = preparedBias(i, modified: true)
                    for o in 0..<l.outChannels where bias[o] != 0 {
                        let row = b.tmp + o * ld, bo = bias[o]
                        for j in 0..<ld { row[j] += bo }
                    }
                } else {
                    for p in 0..<n {
                        let y = act[p].activations + offsets[i + 1]
                        for o in 0..<l.outChannels { (b.tmp + o * ld + p * P).update(from: y + o * P, count: P) }
                    }
                }
                for p in 0..<n {
                    for o in 0..<l.outChannels {
                        let z = b.tmp + o * ld + p * P, r = cur[p] + o * P
                        for j in 0..<P {
                            let d = z[j] + (z[j] >= 0 ? eps : -eps)
                            z[j] = d != 0 ? r[j] / d : 0
                        }
                    }
                }
                // c = w'^T s for every pair (K x nP), col2im per pair, R_in = x * c
                withTransposedWeights(i) { wt in
                    T.gemm(m: g.rows, n: ld, k: l.outChannels, alpha: 1, a: wt, lda: l.outChannels, b: b.tmp, ldb: ld,
                           transposeB: false, beta: 0, c: b.cols, ldc: ld)
                }
                let nIn = shapes[i].count
                for p in 0..<n {
                    Im2col.col2im(UnsafePointer(b.cols + p * P), g, into: next[p], ld: ld)
                    for j in 0..<nIn { next[p][j] *= xs[p][j] }
                }
            } else {
                for p in 0..<n {
                    propagateLayer(i, act[p].activations + offsets[i], UnsafePointer(act[p].activations + offsets[i + 1]),
                                   UnsafePointer(cur[p]), next[p], scratch[p])
                }
            }
            swap(&cur, &next)
        }
        for p in 0..<n { outs[p].update(from: cur[p], count: inputCount) }
    }
}
