import Foundation

/// Psi on one sample at a time in precision T: forward with every layer's output kept, then the
/// LRP backward pass, each layer by the rule its composite gives it (`LRPComposite`; the job
/// file's settings build one with `LRPRules.composite`). Convolutions are im2col + one GEMM per sample.
/// Immutable after init; each thread brings its own `Workspace`.
/// The per-element loops carry `@_specialize(where T == Float/Double)`: callers in other modules
/// (DeepEngine<Float> from neon-batch) would otherwise run them unspecialised, through value
/// witnesses per element (on VGG-16 blocks 4-5 nearly as long as the GEMMs themselves).
public final class PsiNetwork<T: NeonScalar>: @unchecked Sendable {
    public let layers: [PsiLayer]
    /// shapes[0] = the input, shapes[i + 1] = the output of layer i.
    public let shapes: [TensorShape]
    public let composite: LRPComposite
    /// The rule of each layer (the composite's choice).
    let layerRules: [any LRPRule]
    private let prepared: [Prepared]
    let offsets: [Int]
    let activationCount: Int, maxCount: Int, colsCount: Int

    /// Weights in T: the layer's own w (rows x cols) and b, and the rule's modified sets.
    private struct Prepared {
        var w: [T] = [], b: [T] = []
        var sets: ParameterSets<T>?
        var geometry: Im2col.Geometry?
    }

    /// Checks that the layers chain from `input`; the error names the first layer that does not fit.
    public convenience init(layers: [PsiLayer], input: TensorShape, rules: LRPRules = LRPRules()) throws {
        try self.init(layers: layers, input: input, composite: rules.composite)
    }

    /// The same with any composite (every layer kind of `layers` must have a rule).
    public init(layers: [PsiLayer], input: TensorShape, composite: LRPComposite) throws {
        let shapes = try Self.shapes(layers: layers, input: input)
        self.layers = layers
        self.shapes = shapes
        self.composite = composite
        let rules = layers.map { composite.rule(for: $0) }
        layerRules = rules
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
                Self.prepare(&p, weight: l.weight, bias: l.bias, rows: l.outChannels, rule: rules[i])
            case .linear(let l):
                Self.prepare(&p, weight: l.weight, bias: l.bias, rows: l.outFeatures, rule: rules[i])
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

    private static func prepare(_ p: inout Prepared, weight: [Double], bias: [Double], rows: Int, rule: any LRPRule) {
        p.w = weight.map { T($0) }
        p.b = bias.map { T($0) }
        let modifiers = rule.parameterModifiers
        precondition(!modifiers.isEmpty, "the rule \(type(of: rule)) has no parameters for a layer with weights")
        p.sets = ParameterSets(modifiers: modifiers, weight: weight, bias: bias, rows: rows, w: p.w)
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
            return s + m * (isModified(i) ? 3 : 2)
        }
    }

    /// Per-thread buffers for one sample: all activations, im2col columns and two relevance maps.
    public final class Workspace: @unchecked Sendable {
        let activations: UnsafeMutablePointer<T>
        let z: UnsafeMutablePointer<T>
        let r0: UnsafeMutablePointer<T>, r1: UnsafeMutablePointer<T>
        let maxCount: Int, colsCount: Int
        private var colsBuffer: UnsafeMutablePointer<T>?
        private var extra: UnsafeMutablePointer<T>?

        init(activations: Int, cols: Int, maxCount: Int) {
            self.activations = .allocate(capacity: activations)
            z = .allocate(capacity: maxCount)
            r0 = .allocate(capacity: maxCount)
            r1 = .allocate(capacity: maxCount)
            self.maxCount = maxCount
            colsCount = cols
        }

        /// im2col columns of one sample (allocated on first use: relevance-only workspaces of the
        /// batched path need them only where a conv layer's rule runs per sample).
        var cols: UnsafeMutablePointer<T> {
            if let c = colsBuffer { return c }
            let c = UnsafeMutablePointer<T>.allocate(capacity: colsCount)
            colsBuffer = c
            return c
        }

        /// `count` more buffers of maxCount values (allocated on first use: only rules that need
        /// them, e.g. the generalised gamma rule on signed inputs, pay for them).
        func scratch(_ count: Int) -> [UnsafeMutablePointer<T>] {
            if extra == nil { extra = .allocate(capacity: 8 * maxCount) }
            precondition(count <= 8)
            return (0..<count).map { extra! + $0 * maxCount }
        }

        deinit {
            activations.deallocate()
            colsBuffer?.deallocate()
            z.deallocate()
            r0.deallocate()
            r1.deallocate()
            extra?.deallocate()
        }
    }

    public func makeWorkspace() -> Workspace { Workspace(activations: activationCount, cols: colsCount, maxCount: maxCount) }

    /// The output of layer i - 1 (i = 0: the input) in a workspace after `forward`.
    public func activation(_ i: Int, in ws: Workspace) -> UnsafeMutablePointer<T> { ws.activations + offsets[i] }

    /// a = Psi(x) for one sample; every layer's output stays in `ws`. Returns a pointer to a.
    @discardableResult
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: UnsafePointer<T>, _ ws: Workspace) -> UnsafePointer<T> {
        ws.activations.update(from: x, count: shapes[0].count)
        for i in layers.indices {
            apply(i, ws.activations + offsets[i], ws.activations + offsets[i + 1], ws)
        }
        return UnsafePointer(ws.activations + offsets[layers.count])
    }

    /// Layer i on `input` into `out`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func apply(_ i: Int, _ input: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ ws: Workspace) {
        switch layers[i] {
        case .conv2d, .linear:
            affine(i, w: prepared[i].w, b: prepared[i].b, UnsafePointer(input), out, ws)
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

    /// R_in of layer i from R_out, by the layer's rule.
    private func propagate(_ i: Int, _ x: UnsafeMutablePointer<T>, _ y: UnsafePointer<T>, _ rOut: UnsafePointer<T>,
                           _ rIn: UnsafeMutablePointer<T>, _ ws: Workspace) {
        layerRules[i].propagate(step(i, x, y, rOut, rIn, ws))
    }

    /// What the rule of layer i sees of one sample.
    func step(_ i: Int, _ x: UnsafeMutablePointer<T>, _ y: UnsafePointer<T>, _ rOut: UnsafePointer<T>,
              _ rIn: UnsafeMutablePointer<T>, _ ws: Workspace) -> LRPStep<T> {
        LRPStep(network: self, index: i, workspace: ws, input: x, output: y, relevanceOut: rOut, relevanceIn: rIn)
    }

    // Accessors for the batched path (PsiNetwork+Batch.swift).
    /// Max pooling backwards (winner takes all, Sec. IV): each output value goes to the first
    /// maximum of its window in x; the relevance of LRP and the gradient alike.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
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
    func preparedBias(_ i: Int, modified: Bool) -> [T] { modified ? prepared[i].sets!.set(0).b : prepared[i].b }
    /// Whether the rule's first parameter set differs from the layer's own (z' needs its own pass).
    func isModified(_ i: Int) -> Bool { !(prepared[i].sets?.modifiers[0].isIdentity ?? true) }
    func withWeights(_ i: Int, modified: Bool, _ body: (UnsafePointer<T>) -> Void) {
        (modified ? prepared[i].sets!.set(0).w : prepared[i].w).withUnsafeBufferPointer { body($0.baseAddress!) }
    }
    func withTransposedWeights(_ i: Int, _ body: (UnsafePointer<T>) -> Void) {
        prepared[i].sets!.set(0).wT.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// out = w input (+ b) for a conv2d or linear layer i (conv: im2col into ws.cols, one GEMM).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func affine(_ i: Int, w: [T], b: [T]?, _ input: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ ws: Workspace) {
        switch layers[i] {
        case .conv2d(let l):
            let g = prepared[i].geometry!
            Im2col.im2col(input, g, into: ws.cols)
            w.withUnsafeBufferPointer {
                T.gemm(m: l.outChannels, n: g.columns, k: g.rows, alpha: 1, a: $0.baseAddress!, lda: g.rows, b: ws.cols,
                       ldb: g.columns, transposeB: false, beta: 0, c: out, ldc: g.columns)
            }
            if let b {
                for o in 0..<l.outChannels where b[o] != 0 {
                    let row = out + o * g.columns, bo = b[o]
                    for j in 0..<g.columns { row[j] += bo }
                }
            }
        case .linear(let l):
            w.withUnsafeBufferPointer {
                T.gemm(m: 1, n: l.outFeatures, k: l.inFeatures, alpha: 1, a: input, lda: l.inFeatures, b: $0.baseAddress!,
                       ldb: l.inFeatures, transposeB: true, beta: 0, c: out, ldc: l.outFeatures)
            }
            if let b { for o in 0..<l.outFeatures { out[o] += b[o] } }
        default:
            preconditionFailure("\(layers[i].typeName) has no weights")
        }
    }

    /// z = w'_k input (+ b'_k) with parameter set k of layer i's rule.
    func forward(layer i: Int, set k: Int, _ input: UnsafePointer<T>, bias: Bool, into out: UnsafeMutablePointer<T>,
                 _ ws: Workspace) {
        let set = prepared[i].sets!.set(k)
        affine(i, w: set.w, b: bias ? set.b : nil, input, out, ws)
    }

    /// out = w'_k^T s (conv: col2im of the columns), the transpose of `forward`'s linear part.
    func backward(layer i: Int, set k: Int, _ s: UnsafePointer<T>, into out: UnsafeMutablePointer<T>, _ ws: Workspace) {
        let set = prepared[i].sets!.set(k)
        switch layers[i] {
        case .conv2d(let l):
            let g = prepared[i].geometry!
            set.wT.withUnsafeBufferPointer {
                T.gemm(m: g.rows, n: g.columns, k: l.outChannels, alpha: 1, a: $0.baseAddress!, lda: l.outChannels,
                       b: s, ldb: g.columns, transposeB: false, beta: 0, c: ws.cols, ldc: g.columns)
            }
            Im2col.col2im(UnsafePointer(ws.cols), g, into: out)
        case .linear(let l):
            set.w.withUnsafeBufferPointer {
                T.gemm(m: 1, n: l.inFeatures, k: l.outFeatures, alpha: 1, a: s, lda: l.outFeatures, b: $0.baseAddress!,
                       ldb: l.inFeatures, transposeB: false, beta: 0, c: out, ldc: l.inFeatures)
            }
        default:
            preconditionFailure("\(layers[i].typeName) has no weights")
        }
    }
    func applyLayer(_ i: Int, _ input: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ ws: Workspace) {
        apply(i, input, out, ws)
    }
    func propagateLayer(_ i: Int, _ x: UnsafeMutablePointer<T>, _ y: UnsafePointer<T>, _ rOut: UnsafePointer<T>,
                        _ rIn: UnsafeMutablePointer<T>, _ ws: Workspace) {
        propagate(i, x, y, rOut, rIn, ws)
    }
}
