import Foundation
import NeonCore
import Rendering
import Storage
import XCTest

/// Soft and deep clustering through the whole pipeline (paper Sec. IV, Appendix E): 4-D inputs,
/// Psi + head models, targets, identical results for 1, 2, 3 ranks, agreement with NeonCore's
/// layer-by-layer composition, and bad inputs.
final class DeepClusteringEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    struct Net {
        let conv1: Conv2DLayer, conv2: Conv2DLayer
        var layers: [PsiLayer] {
            [.conv2d(conv1), .relu, .maxPool2d(kernel: 2, stride: 2), .conv2d(conv2), .relu, .globalAvgPool]
        }
    }

    static func net(seed: UInt64) -> Net {
        var rng = SplitMix64(seed: seed)
        func conv(_ o: Int, _ i: Int) -> Conv2DLayer {
            Conv2DLayer(outChannels: o, inChannels: i, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
                        weight: (0..<(o * i * 9)).map { _ in Double(Float(rng.normal() / Double(3 * i).squareRoot())) },
                        bias: (0..<o).map { _ in Double(Float(0.05 * rng.normal())) })
        }
        return Net(conv1: conv(4, 3), conv2: conv(5, 4))
    }

    /// Writes a model with the net's layers (and `extra` layer groups for bad models).
    @discardableResult
    func writeDeepModel(_ name: String = "model.h5", kind: String, net: Net, centroids: [Double], clusters K: Int,
                        features D: Int, types: [String]? = nil, stiffness: Double? = nil) throws -> String {
        let f = try H5WriteFile(creating: fx.path(name), communicator: nil)
        try f.setAttribute("kind", kind)
        if let tau = stiffness { try f.setAttribute("stiffness", tau) }
        try f.write("centroids", element: .float64, rows: K, columns: D, values: centroids)
        if kind != "soft_kmeans" {
            for (i, layer) in net.layers.enumerated() {
                let g = "psi/\(i)"
                try f.setAttribute("type", types?[i] ?? layer.typeName, on: g)
                switch layer {
                case .conv2d(let c):
                    try f.write("\(g)/weight", element: .float32, dims: [c.outChannels, c.inChannels, 3, 3], values: c.weight.map { Float($0) })
                    try f.write("\(g)/bias", element: .float32, dims: [c.outChannels], values: c.bias.map { Float($0) })
                    try f.setAttribute("padding", 1.0, on: g)
                case .maxPool2d(let k, _): try f.setAttribute("kernel_size", Double(k), on: g)
                default: break
                }
            }
        }
        try f.close()
        return fx.path(name)
    }

    func writeImages(_ name: String = "data.h5", rows n: Int, shape: [Int] = [3, 6, 6], seed: UInt64, float32: Bool = true) throws -> [Double] {
        var rng = SplitMix64(seed: seed)
        let x = (0..<(n * shape.reduce(1, *))).map { _ in max(0, rng.normal() + 0.3) }
        let f = try H5WriteFile(creating: fx.path(name), communicator: nil)
        if float32 {
            try f.write("features", element: .float32, dims: [n] + shape, values: x.map { Float($0) })
        } else {
            try f.write("features", element: .float64, dims: [n] + shape, values: x)
        }
        try f.close()
        return float32 ? x.map { Double(Float($0)) } : x
    }

    func job(_ name: String, output: String, explain: String, blockRows: Int = 40, extra: String = "") throws -> String {
        let text = """
            {"input": {"file": "data.h5", "dataset": "features"}, "model": {"file": "model.h5"},
             "output": {"file": "\(output)", "overwrite": true\(extra)}, "explain": \(explain),
             "execution": {"block_rows": \(blockRows)}}
            """
        try text.write(toFile: fx.path(name), atomically: true, encoding: .utf8)
        return fx.path(name)
    }

    func read(_ name: String) throws -> (r: [Double], f: [Double], c: [Int64], ch: [Double]?, s: StoredFile) {
        let s = try StoredFile(path: fx.path(name))
        XCTAssertEqual(try s.stringAttribute("status"), "complete")
        return (try s.doubles("relevance"), try s.doubles("logit"), try s.int64s("assignment"),
                s.exists("relevance_channels") ? try s.doubles("relevance_channels") : nil, s)
    }

    func testDeepModelsAgreeAcrossRanksAndWithTheComposition() throws {
        let n = 70, d = 108, K = 4, D = 5
        let net = Self.net(seed: 21)
        let x = try writeImages(rows: n, seed: 22, float32: false)
        var rng = SplitMix64(seed: 23)
        let mu = (0..<(K * D)).map { _ in abs(rng.normal()) * 0.5 }
        let psi = try PsiNetwork<Double>(layers: net.layers, input: .image(channels: 3, height: 6, width: 6), rules: LRPRules(convGamma: 0.1))
        for (kind, mode) in [("deep_kmeans", #""relative""#), ("deep_soft", #""relative""#), ("deep_soft", #""absolute", "theta": 0.3"#)] {
            try writeDeepModel(kind: kind, net: net, centroids: mu, clusters: K, features: D)
            var outs: [[Double]] = []
            var first: (r: [Double], f: [Double], c: [Int64], ch: [Double]?, s: StoredFile)!
            for p in 1...3 {
                let j = try job("j\(p).json", output: "o\(p).h5", explain: #"{"beta": 2, "target": [1, 3], "mode": \#(mode)}"#, blockRows: 30)
                let r = try NeonBatchProcess.run([j, "-q"], ranks: p)
                XCTAssertEqual(r.status, 0, r.stderr)
                let o = try read("o\(p).h5")
                if p == 1 { first = o }
                outs.append(o.r + o.f + o.c.map(Double.init) + (o.ch ?? []))
            }
            XCTAssertEqual(outs[1], outs[0], kind)
            XCTAssertEqual(outs[2], outs[0], kind)
            XCTAssertEqual(first.s.shape("relevance"), [n, 2, 3, 6, 6])
            XCTAssertEqual(first.s.shape("logit"), [n, 2])
            XCTAssertEqual(first.s.shape("relevance_channels"), [n, 2, 3])
            XCTAssertEqual(first.s.dimensionLabels("relevance"), ["sample", "target", "channel", "y", "x"])
            XCTAssertEqual(try first.s.stringAttribute("model_kind"), kind)
            XCTAssertEqual(try first.s.stringAttribute("targets"), "1,3")
            let headMode: ClusterHead.Mode = mode.contains("absolute") ? .absolute(theta: 0.3) : .relative
            let head = ClusterHead(clusters: K, features: D, centroids: mu, logits: kind == "deep_soft" ? .dot : .distance(stiffness: 1),
                                   mode: headMode)
            for row in stride(from: 0, to: n, by: 9) {
                let xi = Array(x[(row * d)..<((row + 1) * d)])
                let ws = psi.makeWorkspace()
                let ap = xi.withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
                let a = Array(UnsafeBufferPointer(start: ap, count: D))
                XCTAssertEqual(first.c[row], Int64(head.assign(a)))
                for (j, t) in [1, 3].enumerated() {
                    let e = HeadReference.explain(a, head: head, beta: 2, cluster: t)
                    var rx = [Double](repeating: 0, count: d)
                    e.relevance.withUnsafeBufferPointer { psi.backward(relevance: $0.baseAddress!, ws, into: &rx) }
                    let p = row * 2 + j
                    XCTAssertEqual(first.f[p], e.logit, accuracy: 1e-9 * max(1, abs(e.logit)))
                    let got = Array(first.r[(p * d)..<((p + 1) * d)])
                    XCTAssertLessThan(zip(got, rx).map { abs($0 - $1) }.max()!, 1e-9 * max(1, rx.map(abs).max()!), "\(kind) row \(row)")
                    for c in 0..<3 {
                        XCTAssertEqual(first.ch![p * 3 + c], got[(c * 36)..<((c + 1) * 36)].reduce(0, +), accuracy: 1e-9)
                    }
                }
            }
        }
    }

    /// The assigned run keeps (N, C, H, W) / (N) and equals the assigned target of an "all" run.
    func testAssignedLayoutAndAllTargetsSlice() throws {
        let n = 40, K = 3, D = 5
        let net = Self.net(seed: 31)
        let x = try writeImages(rows: n, seed: 32)
        // Centroids: a = Psi(x) of samples 0, 1, 2, so that every cluster has members.
        let psi = try PsiNetwork<Double>(layers: net.layers, input: .image(channels: 3, height: 6, width: 6))
        let ws = psi.makeWorkspace()
        let centroids = (0..<K).flatMap { k -> [Double] in
            let a = Array(x[(k * 108)..<((k + 1) * 108)]).withUnsafeBufferPointer { psi.forward($0.baseAddress!, ws) }
            return (0..<D).map { a[$0] }
        }
        try writeDeepModel(kind: "deep_kmeans", net: net, centroids: centroids, clusters: K, features: D)
        let r1 = try NeonBatchProcess.run([try job("a.json", output: "a.h5", explain: "{}"), "-q"], ranks: 2)
        XCTAssertEqual(r1.status, 0, r1.stderr)
        let r2 = try NeonBatchProcess.run([try job("b.json", output: "b.h5", explain: #"{"target": "all"}"#), "-q"], ranks: 2)
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let a = try read("a.h5"), b = try read("b.h5")
        XCTAssertEqual(a.s.shape("relevance"), [n, 3, 6, 6])
        XCTAssertEqual(a.s.shape("logit"), [n])
        XCTAssertEqual(a.s.shape("relevance_channels"), [n, 3])
        XCTAssertEqual(a.s.dimensionLabels("relevance"), ["sample", "channel", "y", "x"])
        XCTAssertEqual(b.s.shape("relevance"), [n, K, 3, 6, 6])
        // render draws one heatmap per target; captions carry the assigned cluster's f_c
        let rendered = try NeonBatchProcess.run(["render", fx.path("b.h5"), "--out", fx.path("pictures")])
        XCTAssertEqual(rendered.status, 0, rendered.stderr)
        let page = try String(contentsOfFile: fx.path("pictures/index.html"), encoding: .utf8)
        var shown = 0
        for i in 0..<n where page.contains("sample \(i): cluster") {
            XCTAssertTrue(page.contains("sample \(i): cluster \(a.c[i]), f_c = \(shortNumber(a.f[i]))"), "sample \(i)")
            shown += 1
        }
        XCTAssertGreaterThan(shown, 0, page)
        XCTAssertTrue((0..<n).contains { page.contains("sample \($0): cluster") && a.c[$0] != 0 }, "no rendered sample outside cluster 0")
        XCTAssertEqual(a.c, b.c)
        XCTAssertEqual(a.s.numberAttribute("beta"), b.s.numberAttribute("beta"))
        for row in 0..<n {
            let c = Int(a.c[row])
            XCTAssertEqual(b.f[row * K + c], a.f[row])
            XCTAssertEqual(Array(b.r[((row * K + c) * 108)..<((row * K + c + 1) * 108)]), Array(a.r[(row * 108)..<((row + 1) * 108)]))
            for k in 0..<K where k != c { XCTAssertLessThan(b.f[row * K + k], 0) }
        }
    }

    /// k-means with targets: the assigned target's slice equals the "assigned" run (the k-means
    /// fast path), up to float32 rounding of a different GEMM order.
    func testKMeansAllTargetsSliceEqualsAssignedRun() throws {
        let (n, d, K) = (500, 6, 5)
        let (x, centroids) = Fixture.blobs(rows: n, features: d, clusters: K, seed: 41)
        try fx.writeInput(rows: n, features: d, values: x)
        try fx.writeModel(clusters: K, features: d, centroids: centroids)
        let r1 = try NeonBatchProcess.run([try job("a.json", output: "a.h5", explain: "{}", blockRows: 300), "-q"], ranks: 3)
        XCTAssertEqual(r1.status, 0, r1.stderr)
        for p in [1, 3] {
            let r2 = try NeonBatchProcess.run([try job("b\(p).json", output: "b\(p).h5", explain: #"{"target": "all"}"#, blockRows: 300), "-q"], ranks: p)
            XCTAssertEqual(r2.status, 0, r2.stderr)
        }
        let a = try read("a.h5"), b = try read("b1.h5"), b3 = try read("b3.h5")
        // inspect summarises a target-axis output with the assigned cluster's logit
        let ia = try NeonBatchProcess.run(["inspect", fx.path("a.h5")]), ib = try NeonBatchProcess.run(["inspect", fx.path("b1.h5")])
        XCTAssertEqual(ia.status, 0, ia.stderr)
        XCTAssertEqual(ib.status, 0, ib.stderr)
        let meanLine = { (t: String) in t.split(separator: "\n").filter { $0.hasPrefix("  logits:") }.map(String.init) }
        XCTAssertEqual(meanLine(ia.stdout).count, 1, ia.stdout)
        XCTAssertEqual(meanLine(ib.stdout), meanLine(ia.stdout), ib.stdout)
        XCTAssertEqual(b3.r, b.r)
        XCTAssertEqual(b3.f, b.f)
        XCTAssertEqual(b.s.shape("relevance"), [n, K, d])
        XCTAssertEqual(b.s.shape("logit"), [n, K])
        XCTAssertEqual(b.s.dimensionLabels("logit"), ["sample", "target"])
        XCTAssertEqual(a.c, b.c)
        for row in 0..<n {
            let c = Int(a.c[row]), scale = max(1, abs(a.f[row]))
            XCTAssertEqual(b.f[row * K + c], a.f[row], accuracy: 1e-3 * scale)
            for i in 0..<d { XCTAssertEqual(b.r[(row * K + c) * d + i], a.r[row * d + i], accuracy: 1e-3 * scale) }
        }
    }

    func testKernelKMeansTargetsSliceEqualsAssignedRun() throws {
        let (n, d) = (60, 3)
        var rng = SplitMix64(seed: 51)
        let u = (0..<(6 * d)).map { _ in 2 * rng.normal() }
        let f = try H5WriteFile(creating: fx.path("model.h5"), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", 0.4)
        try f.write("support_vectors", element: .float64, rows: 6, columns: d, values: u)
        try f.write("support_cluster", element: .int64, dims: [6], values: [Int64]([0, 1, 2, 0, 1, 2]))
        try f.close()
        try fx.writeInput(rows: n, features: d, values: (0..<(n * d)).map { _ in 2 * rng.normal() }, float32: false)
        XCTAssertEqual(try NeonBatchProcess.run([try job("a.json", output: "a.h5", explain: #"{"beta": 1}"#), "-q"], ranks: 2).status, 0)
        let r = try NeonBatchProcess.run([try job("b.json", output: "b.h5", explain: #"{"beta": 1, "target": [2, 0, 1]}"#), "-q"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try read("a.h5"), b = try read("b.h5")
        let order = [2, 0, 1]
        for row in 0..<n {
            let j = order.firstIndex(of: Int(a.c[row]))!
            XCTAssertEqual(b.f[row * 3 + j], a.f[row], accuracy: 1e-9)
            for i in 0..<d { XCTAssertEqual(b.r[(row * 3 + j) * d + i], a.r[row * d + i], accuracy: 1e-9 * max(1, abs(a.f[row]))) }
        }
    }

    /// soft k-means (Appendix E-A), absolute mode: f_c = log(p_c / (1 - p_c)) + log((1 - theta) / theta).
    func testSoftKMeansAbsoluteLogits() throws {
        let (n, d, K) = (80, 4, 3)
        var rng = SplitMix64(seed: 61)
        let mu = (0..<(K * d)).map { _ in rng.normal() }
        try writeDeepModel(kind: "soft_kmeans", net: Self.net(seed: 1), centroids: mu, clusters: K, features: d, stiffness: 0.8)
        let x = (0..<(n * d)).map { _ in rng.normal() }
        try fx.writeInput(rows: n, features: d, values: x, float32: false)
        let r = try NeonBatchProcess.run([try job("j.json", output: "o.h5", explain: #"{"mode": "absolute", "theta": 0.25, "beta": 1}"#), "-q"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try read("o.h5")
        XCTAssertEqual(try o.s.stringAttribute("mode"), "absolute")
        for row in 0..<n {
            let z = (0..<K).map { k in -0.8 * (0..<d).reduce(0.0) { $0 + pow(x[row * d + $1] - mu[k * d + $1], 2) } }
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let p = e[Int(o.c[row])] / e.reduce(0, +)
            XCTAssertEqual(o.f[row], log(p / (1 - p)) + log(0.75 / 0.25), accuracy: 1e-9)
        }
    }

    /// output.compression: chunked, shuffle + deflate, still written collectively; same numbers.
    func testCompressedOutputEqualsUncompressed() throws {
        let n = 50, K = 3, D = 5
        let net = Self.net(seed: 81)
        _ = try writeImages(rows: n, seed: 82)
        var rng = SplitMix64(seed: 83)
        try writeDeepModel(kind: "deep_soft", net: net, centroids: (0..<(K * D)).map { _ in rng.normal() }, clusters: K, features: D)
        let plain = try NeonBatchProcess.run([try job("p.json", output: "p.h5", explain: #"{"target": "all"}"#), "-q"], ranks: 2)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let reference = try read("p.h5")
        XCTAssertEqual(reference.s.filterCount("relevance"), 0)
        for p in [1, 3] {
            let r = try NeonBatchProcess.run([try job("z\(p).json", output: "z\(p).h5", explain: #"{"target": "all"}"#, blockRows: 24,
                                                  extra: #", "compression": 6"#), "-q"], ranks: p)
            XCTAssertEqual(r.status, 0, r.stderr)
            let z = try read("z\(p).h5")
            XCTAssertEqual(z.s.filterCount("relevance"), 2)
            XCTAssertEqual(z.s.filterCount("relevance_channels"), 2)
            XCTAssertEqual(z.s.numberAttribute("compression"), 6)
            XCTAssertEqual(z.r, reference.r)
            XCTAssertEqual(z.f, reference.f)
            XCTAssertEqual(z.c, reference.c)
            XCTAssertEqual(z.ch, reference.ch)
        }
    }

    func testBadDeepInputs() throws {
        let net = Self.net(seed: 71)
        _ = try writeImages(rows: 10, seed: 72)
        let mu = [Double](repeating: 0.5, count: 15)
        func fails(_ explain: String = "{}", extra: String = "", message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let j = try job("bad.json", output: "bad.h5", explain: explain, extra: extra)
            let r = try NeonBatchProcess.run([j], ranks: 2, timeout: 60)
            XCTAssertEqual(r.status, 1, file: file, line: line)
            XCTAssertEqual(r.errorLines, ["neon-batch: error: \(message)"], r.stderr, file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("bad.h5")), file: file, line: line)
        }
        let model = fx.path("model.h5"), jobPath = fx.path("bad.json")
        // layer shapes that do not chain: conv2 gets 3 channels instead of 4
        let broken = Net(conv1: net.conv1, conv2: Conv2DLayer(outChannels: 5, inChannels: 3, kernelHeight: 3, kernelWidth: 3, padding: 1,
                                                               weight: [Double](repeating: 0.1, count: 135)))
        try writeDeepModel(kind: "deep_kmeans", net: broken, centroids: mu, clusters: 3, features: 5)
        try fails(message: "\(model): psi layer 3 (conv2d) expects 3 input channels but psi layer 2 (maxpool2d) gives (4, 3, 3)")
        // unknown layer type
        try writeDeepModel(kind: "deep_kmeans", net: net, centroids: mu, clusters: 3, features: 5,
                           types: ["conv2d", "gelu", "maxpool2d", "conv2d", "relu", "global_avg_pool"])
        try fails(message: "\(model): layer 'psi/1' has unknown type 'gelu' (expected one of conv2d, relu, maxpool2d, avgpool2d, global_avg_pool, flatten, linear)")
        // input shape not matching the first layer
        try writeDeepModel(kind: "deep_kmeans", net: net, centroids: mu, clusters: 3, features: 5)
        _ = try writeImages(rows: 10, shape: [2, 6, 6], seed: 73)
        try fails(message: "\(model): psi layer 0 (conv2d) expects 3 input channels but the input samples give (2, 6, 6) (dataset 'features' of \(fx.path("data.h5")))")
        _ = try writeImages(rows: 10, seed: 72)
        // head dimension
        try writeDeepModel(kind: "deep_soft", net: net, centroids: [Double](repeating: 0.5, count: 12), clusters: 3, features: 4)
        try fails(message: "\(model): dataset 'centroids' has 4 features but psi gives (5) on samples (3, 6, 6)")
        try writeDeepModel(kind: "deep_soft", net: net, centroids: mu, clusters: 3, features: 5)
        // theta outside (0, 1); absolute mode on deep k-means; targets out of range; output size
        try fails(#"{"mode": "absolute", "theta": 1}"#, message: "\(jobPath): explain.theta must be a number in (0, 1)")
        try fails(#"{"mode": "absolute", "theta": 0}"#, message: "\(jobPath): explain.theta must be a number in (0, 1)")
        try fails(#"{"target": [0, 3]}"#, message: "\(jobPath): explain.target cluster 3 is out of range (the model has 3 clusters, 0..2)")
        try fails(#"{"target": "all"}"#, extra: #", "max_bytes": 100000"#,
                  message: "\(jobPath): the output would take 1062232 bytes (10 samples x 324 relevance values), more than output.max_bytes = 100000; raise output.max_bytes to allow it")
        try writeDeepModel(kind: "deep_kmeans", net: net, centroids: mu, clusters: 3, features: 5)
        try fails(#"{"mode": "absolute", "theta": 0.5}"#,
                  message: "\(jobPath): explain.mode \"absolute\" needs a softmax model (soft_kmeans, deep_soft or softmax_head); \(model) is deep_kmeans")
    }

    /// Resume works for deep, per-target outputs too: an all-targets export stopped by SIGTERM
    /// after a few blocks and resumed equals an uninterrupted run.
    func testDeepAllTargetsExportStoppedAndResumedEqualsUninterrupted() throws {
        let n = 3000, K = 4, D = 5
        _ = try writeImages(rows: n, seed: 22)
        var rng = SplitMix64(seed: 23)
        try writeDeepModel(kind: "deep_kmeans", net: Self.net(seed: 21), centroids: (0..<(K * D)).map { _ in abs(rng.normal()) * 0.5 },
                           clusters: K, features: D)
        let explain = #"{"target": "all"}"#
        let ref = try job("ref.json", output: "ref.h5", explain: explain, blockRows: 20)
        XCTAssertEqual(try NeonBatchProcess.run([ref, "-q"], ranks: 2).status, 0)
        let j = try job("j.json", output: "out.h5", explain: explain, blockRows: 20)
        var sent = false
        let r = try NeonBatchProcess.run([j, "-q"], ranks: 2, timeout: 120) {
            guard !sent, NeonBatchProcess.blocksDone(fx.path("out.h5"), progress: RelevanceOutput.blockDoneDataset) >= 3 else { return }
            let pids = NeonBatchProcess.childPIDs(matching: j)
            pids.forEach { kill($0, SIGTERM) }
            sent = !pids.isEmpty
        }
        XCTAssertTrue(sent, "the run ended before it could be interrupted")
        XCTAssertEqual(r.status, 75, r.stderr)
        XCTAssertEqual(try StoredFile(path: fx.path("out.h5")).stringAttribute("status"), "incomplete")
        let resumed = try NeonBatchProcess.run([j, "--resume", "-q"], ranks: 2)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try read("ref.h5"), b = try read("out.h5")
        XCTAssertEqual(a.r, b.r)
        XCTAssertEqual(a.f, b.f)
        XCTAssertEqual(a.c, b.c)
        XCTAssertEqual(a.ch, b.ch)
    }
}
