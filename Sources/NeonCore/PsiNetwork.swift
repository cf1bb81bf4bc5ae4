import Foundation

/// Psi on one sample at a time in precision T: forward with every layer's output kept, then the
/// LRP backward pass (rules in `LRPRules`). Convolutions are im2col + one GEMM per sample.
/// Immutable after init; each thread brings its own `Workspace`.
public final class PsiNetwork<T: NeonScalar>: @unchecked Sendable {
    public let layers: [PsiLayer]
    /// shapes[0] = the input, shapes[i + 1] = the output of layer i.
    public let shapes: [TensorShape]
    public let rules: LRPRules
    private let prepared: [Prepared]
    let offsets: [Int]
    let activationCount: Int, maxCount: Int, colsCount: Int

    /// Weights in T: w (rows x cols), w' (modified, or the same), w'^T, biases b and b'.
    private struct Prepared {
        var w: [T] = [], wMod: [T] = [], wModT: [T] = [], b: [T] = [], bMod: [T] = []
        var geometry: Im2col.Geometry?
        var stabiliser: T = 0
        var modified = false
    }

    /// Checks that the layers chain from `input`; the error names the first layer that does not fit.
    public init(layers: [PsiLayer], input: TensorShape, rules: LRPRules = LRPRules()) throws {
        let shapes = try Self.shapes(layers: layers, input: input)
        self.layers = layers
        self.shapes = shapes
        self.rules = rules
        var off = [0]
        for s in shapes { off.append(off.last! + s.count) }
        offsets = off
        activationCount = off.last!
        maxCount = shapes.map(\.count).max()!
        var cols = 1
        var prep: [Prepared] = []
        for (i, layer) in layers.enumerated() {
            var p = Prepared()
            switch layer {
            case .conv2d(let l):
                guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { fatalError() }
                let g = Im2col.Geometry(channels: c, height: h, width: w, kh: l.kernelHeight, kw: l.kernelWidth,
                                        stride: l.stride, padding: l.padding, outHeight: ho, outWidth: wo)
                p.geometry = g
                cols = max(cols, g.rows * g.columns)
                Self.prepare(&p, weight: l.weight, bias: l.bias, rows: l.outChannels, gamma: rules.convGamma)
                p.stabiliser = T(rules.epsilon)
            case .linear(let l):
                let gamma = rules.linearRule == .gamma ? rules.linearGamma : 0
                Self.prepare(&p, weight: l.weight, bias: l.bias, rows: l.outFeatures, gamma: gamma)
                p.stabiliser = T(rules.epsilon)
            default: break
            }
            prep.append(p)
        }
        prepared = prep
        colsCount = cols
    }

    /// The input and every layer's output shape; the error names the first layer that does not fit.
    public static func shapes(layers: [PsiLayer], input: TensorShape) throws -> [TensorShape] {
        var shapes = [input]
        for (i, layer) in layers.enumerated() {
            let source = i == 0 ? "the input samples" : "psi layer \(i - 1) (\(layers[i - 1].typeName))"
            switch layer.outputShape(shapes[i], index: i, source: source) {
            case .success(let s): shapes.append(s)
            case .failure(let e): throw e
            }
        }
        return shapes
    }

    private static func prepare(_ p: inout Prepared, weight: [Double], bias: [Double], rows: Int, gamma: Double) {
        let cols = weight.count / rows
        p.w = weight.map { T($0) }
        p.b = bias.map { T($0) }
        p.modified = gamma != 0
        let wm = weight.map { $0 + gamma * max($0, 0) }
        p.wMod = p.modified ? wm.map { T($0) } : p.w
        p.bMod = bias.map { T($0 + gamma * max($0, 0)) }
        var t = [T](repeating: 0, count: weight.count)
        for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = T(wm[r * cols + c]) } }
        p.wModT = t
    }

    public var inputCount: Int { shapes[0].count }
    public var outputCount: Int { shapes.last!.count }

    /// Multiply-adds of one forward pass.
    public var multiplyAdds: Double {
        layers.indices.reduce(0) { $0 + layers[$1].multiplyAdds(input: shapes[$1], output: shapes[$1 + 1]) }
    }

    /// Multiply-adds of forward + LRP backward (z' is recomputed where the rule modifies the weights).
    public var explainMultiplyAdds: Double {
        layers.indices.reduce(0) { s, i in
            let m = layers[i].multiplyAdds(input: shapes[i], output: shapes[i + 1])
            return s + m * (prepared[i].modified ? 3 : 2)
        }
    }

    /// Per-thread buffers for one sample: all activations, im2col columns and two relevance maps.
    public final class Workspace: @unchecked Sendable {
        let activations: UnsafeMutablePointer<T>
        let cols: UnsafeMutablePointer<T>
        let z: UnsafeMutablePointer<T>
        let r0: UnsafeMutablePointer<T>, r1: UnsafeMutablePointer<T>

        init(activations: Int, cols: Int, maxCount: Int) {
            self.activations = .allocate(capacity: activations)
            self.cols = .allocate(capacity: cols)
            z = .allocate(capacity: maxCount)
            r0 = .allocate(capacity: maxCount)
            r1 = .allocate(capacity: maxCount)
        }

        deinit {
            activations.deallocate()
            cols.deallocate()
            z.deallocate()
            r0.deallocate()
            r1.deallocate()
        }
    }

    public func makeWorkspace() -> Workspace { Workspace(activations: activationCount, cols: colsCount, maxCount: maxCount) }

    /// The output of layer i - 1 (i = 0: the input) in a workspace after `forward`.
    public func activation(_ i: Int, in ws: Workspace) -> UnsafeMutablePointer<T> { ws.activations + offsets[i] }

    /// a = Psi(x) for one sample; every layer's output stays in `ws`. Returns a pointer to a.
    @discardableResult
    public func forward(_ x: UnsafePointer<T>, _ ws: Workspace) -> UnsafePointer<T> {
        ws.activations.update(from: x, count: shapes[0].count)
        for i in layers.indices {
            apply(i, ws.activations + offsets[i], ws.activations + offsets[i + 1], ws, modified: false)
        }
        return UnsafePointer(ws.activations + offsets[layers.count])
    }

    /// Layer i on `input` into `out`; `modified`: with w', b' (z' of the gamma rule).
    private func apply(_ i: Int, _ input: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ ws: Workspace,
                       modified: Bool) {
        let p = prepared[i]
        switch layers[i] {
        case .conv2d(let l):
            let g = p.geometry!
            Im2col.im2col(UnsafePointer(input), g, into: ws.cols)
            let (w, b) = modified ? (p.wMod, p.bMod) : (p.w, p.b)
            w.withUnsafeBufferPointer {
                T.gemm(m: l.outChannels, n: g.columns, k: g.rows, alpha: 1, a: $0.baseAddress!, lda: g.rows, b: ws.cols,
                       ldb: g.columns, transposeB: false, beta: 0, c: out, ldc: g.columns)
            }
            for o in 0..<l.outChannels where b[o] != 0 {
                let row = out + o * g.columns, bo = b[o]
                for j in 0..<g.columns { row[j] += bo }
            }
        case .linear(let l):
            let (w, b) = modified ? (p.wMod, p.bMod) : (p.w, p.b)
            w.withUnsafeBufferPointer {
                T.gemm(m: 1, n: l.outFeatures, k: l.inFeatures, alpha: 1, a: input, lda: l.inFeatures, b: $0.baseAddress!,
                       ldb: l.inFeatures, transposeB: true, beta: 0, c: out, ldc: l.outFeatures)
            }
            for o in 0..<l.outFeatures { out[o] += b[o] }
        case .relu:
            for j in 0..<shapes[i].count { out[j] = max(input[j], 0) }
        case let .maxPool2d(k, s), let .avgPool2d(k, s):
            guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { return }
            let isMax: Bool
            if case .maxPool2d = layers[i] { isMax = true } else { isMax = false }
            let inv = T(1) / T(k * k)
            for ch in 0..<c {
                let plane = input + ch * h * w
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var acc: T = isMax ? -.infinity : 0
                        for dy in 0..<k {
                            let row = plane + (oy * s + dy) * w + ox * s
                            for dx in 0..<k { acc = isMax ? max(acc, row[dx]) : acc + row[dx] }
                        }
                        out[(ch * ho + oy) * wo + ox] = isMax ? acc : acc * inv
                    }
                }
            }
        case .globalAvgPool:
            guard case let .image(c, h, w) = shapes[i] else { return }
            for ch in 0..<c {
                var acc: T = 0
                for j in 0..<(h * w) { acc += input[ch * h * w + j] }
                out[ch] = acc / T(h * w)
            }
        case .flatten:
            out.update(from: input, count: shapes[i].count)
        }
    }

    /// LRP from relevance `r` on a = Psi(x) (outputCount values) down to x, written to `out`
    /// (inputCount values). Needs the activations of `forward` in `ws`; `r` may alias nothing in ws.
    public func backward(relevance r: UnsafePointer<T>, _ ws: Workspace, into out: UnsafeMutablePointer<T>) {
        backward(relevance: r, activations: ws, scratch: ws, into: out)
    }

    /// The same with the activations of one workspace and the scratch buffers of another (several
    /// targets of one sample are propagated in parallel from the same activations).
    public func backward(relevance r: UnsafePointer<T>, activations act: Workspace, scratch ws: Workspace,
                         into out: UnsafeMutablePointer<T>) {
        var cur = ws.r0, next = ws.r1
        cur.update(from: r, count: outputCount)
        for i in layers.indices.reversed() {
            propagate(i, act.activations + offsets[i], UnsafePointer(act.activations + offsets[i + 1]),
                      UnsafePointer(cur), next, ws)
            swap(&cur, &next)
        }
        out.update(from: cur, count: inputCount)
    }

    /// R_in of layer i from R_out (rules in LRPRules).
    private func propagate(_ i: Int, _ x: UnsafeMutablePointer<T>, _ y: UnsafePointer<T>, _ rOut: UnsafePointer<T>,
                           _ rIn: UnsafeMutablePointer<T>, _ ws: Workspace) {
        let p = prepared[i]
        let nIn = shapes[i].count, nOut = shapes[i + 1].count
        switch layers[i] {
        case .relu, .flatten:
            rIn.update(from: rOut, count: nIn)
        case .conv2d(let l):
            let g = p.geometry!
            // z' (with w', b') or z itself; s = R / (z' + eps sign z')
            if p.modified { apply(i, x, ws.z, ws, modified: true) } else { ws.z.update(from: y, count: nOut) }
            Self.divide(rOut, by: ws.z, stabiliser: p.stabiliser, count: nOut)
            // c = w'^T s (K x P), then col2im onto the input, R_in = x * c
            p.wModT.withUnsafeBufferPointer {
                T.gemm(m: g.rows, n: g.columns, k: l.outChannels, alpha: 1, a: $0.baseAddress!, lda: l.outChannels,
                       b: ws.z, ldb: g.columns, transposeB: false, beta: 0, c: ws.cols, ldc: g.columns)
            }
            Im2col.col2im(UnsafePointer(ws.cols), g, into: rIn)
            for j in 0..<nIn { rIn[j] *= x[j] }
        case .linear(let l):
            if p.modified { apply(i, x, ws.z, ws, modified: true) } else { ws.z.update(from: y, count: nOut) }
            Self.divide(rOut, by: ws.z, stabiliser: p.stabiliser, count: nOut)
            p.wMod.withUnsafeBufferPointer {
                T.gemm(m: 1, n: l.inFeatures, k: l.outFeatures, alpha: 1, a: ws.z, lda: l.outFeatures, b: $0.baseAddress!,
                       ldb: l.inFeatures, transposeB: false, beta: 0, c: rIn, ldc: l.inFeatures)
            }
            for j in 0..<nIn { rIn[j] *= x[j] }
        case let .maxPool2d(k, s):
            guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { return }
            Self.routeToMaxima(rOut, x: x, into: rIn, channels: c, height: h, width: w, outHeight: ho, outWidth: wo,
                                kernel: k, stride: s)
        case let .avgPool2d(k, s):
            guard case let .image(c, h, w) = shapes[i], case let .image(_, ho, wo) = shapes[i + 1] else { return }
            rIn.update(repeating: 0, count: nIn)
            for ch in 0..<c {
                let plane = x + ch * h * w, rp = rIn + ch * h * w
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum: T = 0
                        for dy in 0..<k { for dx in 0..<k { sum += plane[(oy * s + dy) * w + ox * s + dx] } }
                        let rj = rOut[(ch * ho + oy) * wo + ox]
                        for dy in 0..<k {
                            for dx in 0..<k {
                                let idx = (oy * s + dy) * w + ox * s + dx
                                if sum != 0 { rp[idx] += plane[idx] / sum * rj }
                            }
                        }
                    }
                }
            }
        case .globalAvgPool:
            guard case let .image(c, h, w) = shapes[i] else { return }
            let n = h * w
            for ch in 0..<c {
                let plane = x + ch * n
                var sum: T = 0
                for j in 0..<n { sum += plane[j] }
                let rj = rOut[ch]
                for j in 0..<n { rIn[ch * n + j] = sum != 0 ? plane[j] / sum * rj : 0 }
            }
        }
    }

    // Accessors for the batched path (PsiNetwork+Batch.swift).
    /// Max pooling backwards (winner takes all, Sec. IV): each output value goes to the first
    /// maximum of its window in x; the relevance of LRP and the gradient alike.
    static func routeToMaxima(_ out: UnsafePointer<T>, x: UnsafePointer<T>, into input: UnsafeMutablePointer<T>,
                              channels c: Int, height h: Int, width w: Int, outHeight ho: Int, outWidth wo: Int,
                              kernel k: Int, stride s: Int) {
        input.update(repeating: 0, count: c * h * w)
        for ch in 0..<c {
            let plane = x + ch * h * w
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var best = -T.infinity, at = 0
                    for dy in 0..<k {
                        for dx in 0..<k {
                            let idx = (oy * s + dy) * w + ox * s + dx
                            if plane[idx] > best { best = plane[idx]; at = idx }
                        }
                    }
                    input[ch * h * w + at] += out[(ch * ho + oy) * wo + ox]
                }
            }
        }
    }

    func preparedGeometry(_ i: Int) -> Im2col.Geometry { prepared[i].geometry! }
    func preparedBias(_ i: Int, modified: Bool) -> [T] { modified ? prepared[i].bMod : prepared[i].b }
    func preparedStabiliser(_ i: Int) -> T { prepared[i].stabiliser }
    func isModified(_ i: Int) -> Bool { prepared[i].modified }
    func withWeights(_ i: Int, modified: Bool, _ body: (UnsafePointer<T>) -> Void) {
        (modified ? prepared[i].wMod : prepared[i].w).withUnsafeBufferPointer { body($0.baseAddress!) }
    }
    func withTransposedWeights(_ i: Int, _ body: (UnsafePointer<T>) -> Void) {
        prepared[i].wModT.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
    func applyLayer(_ i: Int, _ input: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ ws: Workspace) {
        apply(i, input, out, ws, modified: false)
    }
    func propagateLayer(_ i: Int, _ x: UnsafeMutablePointer<T>, _ y: UnsafePointer<T>, _ rOut: UnsafePointer<T>,
                        _ rIn: UnsafeMutablePointer<T>, _ ws: Workspace) {
        propagate(i, x, y, rOut, rIn, ws)
    }

    /// z[j] <- r[j] / (z[j] + eps sign z[j]), sign(0) = +1.
    private static func divide(_ r: UnsafePointer<T>, by z: UnsafeMutablePointer<T>, stabiliser eps: T, count: Int) {
        for j in 0..<count {
            let d = z[j] + (z[j] >= 0 ? eps : -eps)
            z[j] = d != 0 ? r[j] / d : 0
        }
    }
}
