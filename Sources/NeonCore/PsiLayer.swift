/// The feature extractor Psi = Psi_L o ... o Psi_1 of deep clustering (paper Sec. IV): the layers
/// neon-batch can run and explain with LRP (enough for VGG-16 blocks plus a pooling step).
/// Tensors are one sample's (C, H, W) row-major (NCHW without N) or a flat vector (d).
public enum TensorShape: Equatable, Sendable, CustomStringConvertible {
    case image(channels: Int, height: Int, width: Int)
    case vector(Int)

    public var count: Int {
        switch self {
        case let .image(c, h, w): return c * h * w
        case let .vector(d): return d
        }
    }

    public var description: String {
        switch self {
        case let .image(c, h, w): return "(\(c), \(h), \(w))"
        case let .vector(d): return "(\(d))"
        }
    }
}

/// conv2d: weight (O, I, kh, kw) row-major, bias (O) (zeros when absent), stride, zero padding.
public struct Conv2DLayer: Equatable, Sendable {
    public let outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int
    public let weight: [Double]
    public let bias: [Double]

    public init(outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1,
                padding: Int = 0, weight: [Double], bias: [Double]? = nil) {
        precondition(weight.count == outChannels * inChannels * kernelHeight * kernelWidth)
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.weight = weight
        self.bias = bias ?? [Double](repeating: 0, count: outChannels)
    }
}

/// linear: weight (out, in) row-major, bias (out) (zeros when absent).
public struct LinearLayer: Equatable, Sendable {
    public let outFeatures: Int, inFeatures: Int
    public let weight: [Double]
    public let bias: [Double]

    public init(outFeatures: Int, inFeatures: Int, weight: [Double], bias: [Double]? = nil) {
        precondition(weight.count == outFeatures * inFeatures)
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.weight = weight
        self.bias = bias ?? [Double](repeating: 0, count: outFeatures)
    }
}

public enum PsiLayer: Equatable, Sendable {
    case conv2d(Conv2DLayer)
    case relu
    /// kernel x kernel windows every `stride` pixels, no padding (output floor((H - k) / s) + 1).
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    /// (C, H, W) -> (C): the mean over positions.
    case globalAvgPool
    /// (C, H, W) -> (C H W), same memory.
    case flatten
    case linear(LinearLayer)

    /// The kinds of layers (LRP composites map them to rules); the raw value is the `type`
    /// attribute of the layer in a model file.
    public enum Kind: String, CaseIterable, Sendable {
        case conv2d, relu, maxPool2d = "maxpool2d", avgPool2d = "avgpool2d", globalAvgPool = "global_avg_pool"
        case flatten, linear
    }

    public var kind: Kind {
        switch self {
        case .conv2d: return .conv2d
        case .relu: return .relu
        case .maxPool2d: return .maxPool2d
        case .avgPool2d: return .avgPool2d
        case .globalAvgPool: return .globalAvgPool
        case .flatten: return .flatten
        case .linear: return .linear
        }
    }

    /// The `type` attribute of the layer in a model file.
    public var typeName: String { kind.rawValue }

    public static let typeNames = ["conv2d", "relu", "maxpool2d", "avgpool2d", "global_avg_pool", "flatten", "linear"]

    /// Multiply-adds of the layer per sample (for throughput figures), given its input shape.
    func multiplyAdds(input: TensorShape, output: TensorShape) -> Double {
        switch self {
        case .conv2d(let c):
            return Double(output.count) * Double(c.inChannels * c.kernelHeight * c.kernelWidth)
        case .linear(let l): return Double(l.outFeatures * l.inFeatures)
        default: return 0
        }
    }
}

/// Why a Psi does not fit its input (one line; the caller adds the file).
public struct PsiShapeError: Error, Equatable, CustomStringConvertible {
    /// The layer index (0 = the first layer, which meets the input samples).
    public let layer: Int
    public let reason: String
    public var description: String { reason }
}

extension PsiLayer {
    /// The output shape for `input`, or the reason the layer cannot take it. `source` names
    /// what produces the input ("the input samples" or "layer 2 (relu)").
    func outputShape(_ input: TensorShape, index: Int, source: String) -> Result<TensorShape, PsiShapeError> {
        let me = "psi layer \(index) (\(typeName))"
        let gives = source == "the input samples" ? "give" : "gives"
        func fail(_ s: String) -> Result<TensorShape, PsiShapeError> { .failure(PsiShapeError(layer: index, reason: s)) }
        func image() -> (Int, Int, Int)? {
            if case let .image(c, h, w) = input { return (c, h, w) }
            return nil
        }
        switch self {
        case .conv2d(let l):
            guard let (c, h, w) = image() else { return fail("\(me) needs (C, H, W) input but \(source) \(gives) \(input)") }
            guard c == l.inChannels else {
                return fail("\(me) expects \(l.inChannels) input channels but \(source) \(gives) \(input)")
            }
            let ho = (h + 2 * l.padding - l.kernelHeight) / l.stride + 1
            let wo = (w + 2 * l.padding - l.kernelWidth) / l.stride + 1
            guard h + 2 * l.padding >= l.kernelHeight, w + 2 * l.padding >= l.kernelWidth, ho >= 1, wo >= 1 else {
                return fail("\(me) kernel \(l.kernelHeight) x \(l.kernelWidth) does not fit \(source)'s \(input)")
            }
            return .success(.image(channels: l.outChannels, height: ho, width: wo))
        case .relu:
            return .success(input)
        case let .maxPool2d(k, s), let .avgPool2d(k, s):
            guard let (c, h, w) = image() else { return fail("\(me) needs (C, H, W) input but \(source) \(gives) \(input)") }
            guard h >= k, w >= k else { return fail("\(me) kernel \(k) does not fit \(source)'s \(input)") }
            return .success(.image(channels: c, height: (h - k) / s + 1, width: (w - k) / s + 1))
        case .globalAvgPool:
            guard let (c, _, _) = image() else { return fail("\(me) needs (C, H, W) input but \(source) \(gives) \(input)") }
            return .success(.vector(c))
        case .flatten:
            return .success(.vector(input.count))
        case .linear(let l):
            guard case .vector(let d) = input else {
                return fail("\(me) needs a flat input (add a flatten or global_avg_pool layer) but \(source) \(gives) \(input)")
            }
            guard d == l.inFeatures else { return fail("\(me) expects \(l.inFeatures) input features but \(source) \(gives) \(input)") }
            return .success(.vector(l.outFeatures))
        }
    }
}
