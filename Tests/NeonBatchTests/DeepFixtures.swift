import Foundation
import NeonCore
import Storage

extension Fixture {
    /// A soft/deep model file (docs/file-formats.md) with any Psi layers, weights in float64.
    @discardableResult
    func writeHeadModel(_ name: String = "model.h5", kind: String, layers: [PsiLayer], centroids: [Double], clusters K: Int,
                        features D: Int, stiffness: Double? = nil, standardize: (mean: [Double], std: [Double])? = nil) throws -> String {
        let f = try H5WriteFile(creating: path(name), communicator: nil)
        try f.setAttribute("kind", kind)
        if let tau = stiffness { try f.setAttribute("stiffness", tau) }
        try f.write("centroids", element: .float64, rows: K, columns: D, values: centroids)
        for (i, layer) in layers.enumerated() {
            let g = "psi/\(i)"
            try f.setAttribute("type", layer.typeName, on: g)
            switch layer {
            case .conv2d(let c):
                try f.write("\(g)/weight", element: .float64, dims: [c.outChannels, c.inChannels, c.kernelHeight, c.kernelWidth],
                            values: c.weight)
                try f.write("\(g)/bias", element: .float64, dims: [c.outChannels], values: c.bias)
                try f.setAttribute("stride", Double(c.stride), on: g)
                try f.setAttribute("padding", Double(c.padding), on: g)
            case .linear(let l):
                try f.write("\(g)/weight", element: .float64, dims: [l.outFeatures, l.inFeatures], values: l.weight)
                try f.write("\(g)/bias", element: .float64, dims: [l.outFeatures], values: l.bias)
            case let .maxPool2d(k, s), let .avgPool2d(k, s):
                try f.setAttribute("kernel_size", Double(k), on: g)
                try f.setAttribute("stride", Double(s), on: g)
            default: break
            }
        }
        if let t = standardize {
            try f.write("standardize_mean", element: .float64, dims: [t.mean.count], values: t.mean)
            try f.write("standardize_std", element: .float64, dims: [t.std.count], values: t.std)
        }
        try f.close()
        return path(name)
    }

    /// n samples of `shape` ([d] or [C, H, W]) as float64, written to dataset "features".
    @discardableResult
    func writeSamples(_ name: String = "data.h5", rows n: Int, shape: [Int], seed: UInt64, offset: Double = 0.3) throws -> [Double] {
        var rng = SplitMix64(seed: seed)
        let x = (0..<(n * shape.reduce(1, *))).map { _ in rng.normal() + offset }
        let f = try H5WriteFile(creating: path(name), communicator: nil)
        try f.write("features", element: .float64, dims: [n] + shape, values: x)
        try f.close()
        return x
    }
}
