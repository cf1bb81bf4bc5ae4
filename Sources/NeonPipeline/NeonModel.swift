import Distributed
import NeonCore
import Storage

/// The clustering model of a job, as NeonCore knows it.
enum NeonModel {
    case kmeans(KMeansModel)
    case kernelKMeans(KernelKMeansModel)
    /// soft_kmeans, deep_kmeans, deep_soft (NeonModel+Head.swift).
    case head(ModelFile.HeadModel)

    /// Checks a model file's contents with the model's own rules; problems name the file.
    init(_ stored: ModelFile.Model, path: String) throws {
        switch stored {
        case .kmeans(let m):
            self = .kmeans(KMeansModel(clusters: m.clusters, features: m.features, centroids: m.centroids))
        case .kernelKMeans(let m):
            do {
                self = .kernelKMeans(try KernelKMeansModel(features: m.features, supportVectors: m.supportVectors,
                                                           supportCluster: m.supportCluster, gamma: m.gamma))
            } catch let e as KernelKMeansModel.Invalid {
                throw StorageError("\(path): \(e.description)")
            }
        case .head(let m):
            self = .head(m)
        }
    }

    var kind: String {
        switch self {
        case .kmeans: return "kmeans"
        case .kernelKMeans: return "kernel_kmeans"
        case .head(let m): return m.kind
        }
    }

    var clusters: Int {
        switch self {
        case .kmeans(let m): return m.clusters
        case .kernelKMeans(let m): return m.clusters
        case .head(let m): return m.clusters
        }
    }

    var features: Int {
        switch self {
        case .kmeans(let m): return m.features
        case .kernelKMeans(let m): return m.features
        case .head(let m): return m.features
        }
    }

    /// "kmeans, K = 10" / "kernel_kmeans, K = 10, M = 500, gamma = 0.1"
    var summary: String {
        switch self {
        case .kmeans(let m): return "kmeans, K = \(m.clusters)"
        case .kernelKMeans(let m): return "kernel_kmeans, K = \(m.clusters), M = \(m.count), gamma = \(m.gamma)"
        case .head(let m):
            let tau = m.stiffness.map { ", tau = \($0)" } ?? ""
            let psi = m.psi.isEmpty ? "" : ", psi = " + m.psi.map(\.type).joined(separator: "-")
            return "\(m.kind), K = \(m.clusters)\(tau)\(psi)"
        }
    }

    /// A fingerprint of every number the explanations depend on (for resuming).
    var fingerprint: String {
        var fp = Fingerprint()
        switch self {
        case .kmeans(let m): fp.add(m.centroids)
        case .kernelKMeans(let m):
            fp.add(m.supportVectors)
            fp.add(m.supportCluster.map(Double.init))
            fp.add([m.gamma])
        case .head(let m): fp.add(NeonModel.encode(m))
        }
        return "\(summary), d = \(features), fnv1a64 \(fp.hex)"
    }

    /// Sends rank 0's model to every rank (collective; other ranks pass nil).
    static func broadcast(_ model: NeonModel?, _ comm: Communicator) -> NeonModel {
        var head: [Double] = []
        var values: [Double] = []
        var ids: [Int64] = []
        switch model {
        case .kmeans(let m)?:
            head = [0, Double(m.clusters), Double(m.features), 0]
            values = m.centroids
        case .kernelKMeans(let m)?:
            head = [1, Double(m.clusters), Double(m.features), m.gamma]
            values = m.supportVectors
            ids = m.supportCluster.map { Int64($0) }
        case .head(let m)?:
            head = [2]
            values = NeonModel.encode(m)
        case nil: break
        }
        head = comm.broadcast(head)
        values = comm.broadcast(values)
        ids = comm.broadcast(ids)
        if comm.isRoot, let m = model { return m }
        if head[0] == 2 { return .head(NeonModel.decode(values)) }
        if head[0] == 0 {
            return .kmeans(KMeansModel(clusters: Int(head[1]), features: Int(head[2]), centroids: values))
        }
        // Rank 0 checked this model already.
        return .kernelKMeans(try! KernelKMeansModel(features: Int(head[2]), supportVectors: values,
                                                    supportCluster: ids.map { Int($0) }, gamma: head[3]))
    }
}
