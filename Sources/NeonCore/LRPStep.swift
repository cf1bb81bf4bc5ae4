/// What an LRP rule sees of one layer for one sample in the backward pass: the layer's input x and
/// output y (from `forward`), the relevance on y and the buffer for the relevance on x, and the
/// layer's linear algebra with the rule's parameter sets (`forward`, `backward`).
public struct LRPStep<T: NeonScalar> {
    let network: PsiNetwork<T>
    /// The layer's index in Psi.
    public let index: Int
    let workspace: PsiNetwork<T>.Workspace
    /// x, the layer's input.
    public let input: UnsafeMutablePointer<T>
    /// y, the layer's output.
    public let output: UnsafePointer<T>
    /// R on y (outputCount values).
    public let relevanceOut: UnsafePointer<T>
    /// R on x (inputCount values), written by the rule.
    public let relevanceIn: UnsafeMutablePointer<T>

    public var layer: PsiLayer { network.layers[index] }
    public var inputShape: TensorShape { network.shapes[index] }
    public var outputShape: TensorShape { network.shapes[index + 1] }
    public var inputCount: Int { inputShape.count }
    public var outputCount: Int { outputShape.count }

    /// Whether the rule's first parameter set differs from the layer's own.
    var modifiesParameters: Bool { network.isModified(index) }

    /// out = w'_k input (+ b'_k) with the rule's parameter set k (outputCount values).
    func forward(set k: Int, _ input: UnsafePointer<T>, bias: Bool, into out: UnsafeMutablePointer<T>) {
        network.forward(layer: index, set: k, input, bias: bias, into: out, workspace)
    }

    /// out = w'_k^T s (inputCount values).
    func backward(set k: Int, _ s: UnsafePointer<T>, into out: UnsafeMutablePointer<T>) {
        network.backward(layer: index, set: k, s, into: out, workspace)
    }

    /// The basic form of the rules with weights (`BasicFormRule`) with the first parameter set w', b':
    ///   R_i = x_i sum_j w'_ij R_j / (z'_j + eps sign z'_j),  z'_j = sum_i x_i w'_ij + b'_j.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func basicForm(stabiliser: Double) {
        let z = workspace.z
        // z' (a forward pass with w', b') or z itself; s = R / (z' + eps sign z')
        if modifiesParameters {
            forward(set: 0, UnsafePointer(input), bias: true, into: z)
        } else {
            z.update(from: output, count: outputCount)
        }
        Self.divide(relevanceOut, by: z, stabiliser: T(stabiliser), count: outputCount)
        // R_in = x * (w'^T s)
        backward(set: 0, UnsafePointer(z), into: relevanceIn)
        for j in 0..<inputCount { relevanceIn[j] *= input[j] }
    }

    /// z[j] <- r[j] / (z[j] + eps sign z[j]), sign(0) = +1 (0 where the denominator is 0).
    static func divide(_ r: UnsafePointer<T>, by z: UnsafeMutablePointer<T>, stabiliser eps: T, count: Int) {
        for j in 0..<count {
            let d = z[j] + (z[j] >= 0 ? eps : -eps)
            z[j] = d != 0 ? r[j] / d : 0
        }
    }
}
