/// Backpropagation through Psi: the exact gradient of a linear function of a = Psi(x), for the
/// baseline explainers (sensitivity, integrated gradients) of deep clustering models. Each layer
/// applies the transpose of its Jacobian at the activations of `forward`:
///   linear   g_in = W^T g_out                    conv2d  g_in = col2im(W^T g_out)
///   relu     g_in = g_out 1{x > 0} (subgradient 0 at 0)
///   maxpool  g_out to the window's first maximum (the unit LRP's winner-take-all picks), summed
///            over overlapping windows
///   avgpool  g_out / k^2 to every position of the window; global average pool: g_out / (H W)
///   flatten  unchanged.
extension PsiNetwork {
    /// grad_x (g . Psi(x)) for the activations of `forward` in `ws`, into `out` (inputCount values).
    /// `g` has outputCount values and may alias nothing in ws.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func gradient(_ g: UnsafePointer<T>, _ ws: Workspace, into out: UnsafeMutablePointer<T>) {
        var cur = ws.r0, next = ws.r1
        cur.update(from: g, count: outputCount)
        for i in layers.indices.reversed() {
            backpropagate(i, UnsafePointer(ws.activations + offsets[i]), UnsafePointer(cur), next, ws)
            swap(&cur, &next)
        }
        out.update(from: cur, count: inputCount)
    }

    /// g_in of layer i from g_out, at the layer's input x (specialised: see PsiNetwork).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func backpropagate(_ i: Int, _ x: UnsafePointer<T>, _ gOut: UnsafePointer<T>, _ gIn: UnsafeMutablePointer<T>,
                               _ ws: Workspace) {
        let nIn = shapes[i].count
        switch layers[i] {
        case .flatten:
            gIn.update(from: gOut, count: nIn)
        case .relu:
            for j in 0..<nIn { gIn[j] = x[j] > 0 ? gOut[j] : 0 }
        case .linear(let l):
            withWeights(i, modified: false) { w in
                T.gemm(m: 1, n: l.inFeatures, k: l.outFeatures, alpha: 1, a: gOut, lda: l.outFeatures, b: w,
                       ldb: l.inFeatures, transposeB: false, beta: 0, c: gIn, ldc: l.inFeatures)
            }
        case .conv2d(let l):
            // cols (I kh kw x Ho Wo) = W^T g_out, then the adjoint of im2col.
            let g = preparedGeometry(i), R = g.rows, P = g.columns
            withWeights(i, modified: false) { w in
                for r in 0..<R {
                    let row = ws.cols + r * P
                    row.update(repeating: 0, count: P)
                    for o in 0..<l.outChannels {
                        let wor = w[o * R + r]
                        if wor == 0 { continue }
                        let src = gOut + o * P
                        for p in 0..<P { row[p] += wor * src[p] }
                    }
                }
            }
            Im2col.col2im(UnsafePointer(ws.cols), g, into: gIn)
        case let .maxPool2d(k, s):
            guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { return }
            Self.routeToMaxima(gOut, x: x, into: gIn, channels: c, height: h, width: w, outHeight: ho, outWidth: wo,
                               kernel: k, stride: s)
        case let .avgPool2d(k, s):
            guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { return }
            gIn.update(repeating: 0, count: nIn)
            let inv = T(1) / T(k * k)
            for ch in 0..<c {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        let gj = gOut[(ch * ho + oy) * wo + ox] * inv
                        for dy in 0..<k {
                            for dx in 0..<k { gIn[ch * h * w + (oy * s + dy) * w + ox * s + dx] += gj }
                        }
                    }
                }
            }
        case .globalAvgPool:
            guard case let .image(c, h, w) = shapes[i] else { return }
            let n = h * w
            for ch in 0..<c {
                let gj = gOut[ch] / T(n)
                for j in 0..<n { gIn[ch * n + j] = gj }
            }
        }
    }
}
