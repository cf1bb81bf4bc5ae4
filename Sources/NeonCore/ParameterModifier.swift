/// A modification of a weighted layer's parameters (weights and biases alike) for an LRP rule:
///   w' = w + gamma w^+  (positive part, the gamma rule's)   or   w' = w + gamma w^-  (negative part),
/// with w^+ = max(w, 0), w^- = min(w, 0); gamma = 0 leaves the parameters (zennit's GammaMod / NoMod).
public struct ParameterModifier: Equatable, Sendable {
    public enum Part: Sendable { case positive, negative }
    public let gamma: Double
    public let part: Part

    public init(gamma: Double, part: Part = .positive) {
        self.gamma = gamma
        self.part = part
    }

    /// The parameters as they are.
    public static let identity = ParameterModifier(gamma: 0)

    public var isIdentity: Bool { gamma == 0 }

    public func callAsFunction(_ v: Double) -> Double {
        v + gamma * (part == .positive ? max(v, 0) : min(v, 0))
    }
}
