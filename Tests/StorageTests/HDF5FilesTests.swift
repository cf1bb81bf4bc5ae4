import Distributed
import Foundation
import NeonTestSupport
import XCTest
@testable import Storage

/// Reading inputs and models, writing outputs: round trips and the exact message for each bad file.
final class HDF5FilesTests: XCTestCase {
    var directory: TemporaryDirectory!
    var dir: URL { directory.url }

    override func setUpWithError() throws {
        HDF5Library.silenceErrorStack()
        directory = try TemporaryDirectory(prefix: "neon-storage")
    }

    override func tearDownWithError() throws { directory.remove() }

    func path(_ name: String) -> String { directory.path(name) }

    func writeFile(_ name: String, _ body: (H5WriteFile) throws -> Void) throws -> String {
        try HDF5Fixtures.write(path(name), body)
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as StorageError { return e.message } catch { return "\(error)" }
        return nil
    }

    func testInputRoundTripInBothPrecisions() throws {
        let x32: [Float] = (0..<30).map { Float($0) * 0.5 }
        let p32 = try writeFile("a.h5") { try $0.write("x", element: .float32, rows: 10, columns: 3, values: x32) }
        let in32 = try InputDataset(path: p32, dataset: "x")
        XCTAssertEqual([in32.rows, in32.features], [10, 3])
        XCTAssertEqual(in32.element, .float32)
        var got = [Float](repeating: -1, count: 6)
        try got.withUnsafeMutableBytes { try in32.read(rows: 4, count: 2, into: $0.baseAddress!) }
        XCTAssertEqual(got, Array(x32[12..<18]))

        let x64: [Double] = (0..<8).map { Double($0) / 3 }
        let p64 = try writeFile("b.h5") { try $0.write("g/x", element: .float64, rows: 4, columns: 2, values: x64) }
        XCTAssertThrowsError(try InputDataset(path: p64, dataset: "x"))
        let in64 = try InputDataset(path: p64, dataset: "g/x")
        XCTAssertEqual(in64.element, .float64)
        var all = [Double](repeating: 0, count: 8)
        try all.withUnsafeMutableBytes { try in64.read(rows: 0, count: 4, into: $0.baseAddress!) }
        XCTAssertEqual(all, x64)
    }

    func testBadInputFilesAreNamedExactly() throws {
        let missing = path("missing.h5")
        XCTAssertEqual(message { _ = try InputDataset(path: missing, dataset: "x") },
                       "\(missing): input file does not exist")
        XCTAssertEqual(message { _ = try InputDataset(path: dir.path, dataset: "x") },
                       "\(dir.path): input file is a directory")
        let text = path("text.h5")
        try "not hdf5".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertEqual(message { _ = try InputDataset(path: text, dataset: "x") },
                       "\(text): input file is not an HDF5 file")
        let p = try writeFile("bad.h5") { f in
            try f.write("ints", element: .int64, rows: 3, columns: 2, values: [Int64](repeating: 1, count: 6))
            try f.write("vec", element: .float32, dims: [5], values: [Float](repeating: 1, count: 5))
            try f.write("cube", element: .float32, dims: [2, 2, 2], values: [Float](repeating: 1, count: 8))
            try f.write("empty", element: .float32, rows: 0, columns: 4, values: [Float]())
            try f.write("nofeat", element: .float64, dims: [3, 0], values: [Double]())
            try f.writeStrings("names", ["a", "b"])
        }
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "features") }, "\(p): no dataset 'features'; the file has 'cube', 'empty', 'ints', 'names', 'nofeat', 'vec'")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "Ints") }, "\(p): no dataset 'Ints'; did you mean 'ints'?")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "ints") },
                       "\(p): dataset 'ints' has integer type; expected float32 or float64: convert it, e.g. python3 -c \"import h5py; f = h5py.File('\(p)', 'a'); x = f['ints'][...]; del f['ints']; f['ints'] = x.astype('float32')\"")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "names") },
                       "\(p): dataset 'names' has rank 1; expected 2 (rows x features) or 4 (N, C, H, W)")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "vec") },
                       "\(p): dataset 'vec' has rank 1; expected 2 (rows x features) or 4 (N, C, H, W): add a feature axis, (N, 1), e.g. python3 -c \"import h5py; f = h5py.File('\(p)', 'a'); x = f['vec'][...]; del f['vec']; f['vec'] = x[:, None].astype('float32')\"")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "cube") },
                       "\(p): dataset 'cube' has rank 3; expected 2 (rows x features) or 4 (N, C, H, W): add a channel axis, (N, 1, H, W), e.g. python3 -c \"import h5py; f = h5py.File('\(p)', 'a'); x = f['cube'][...]; del f['cube']; f['cube'] = x[:, None].astype('float32')\"")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "empty") }, "\(p): dataset 'empty' has no rows")
        XCTAssertEqual(message { _ = try InputDataset(path: p, dataset: "nofeat") }, "\(p): dataset 'nofeat' has no features")
    }

    func testModelFileChecks() throws {
        let good = try writeFile("m.h5") { f in
            try f.setAttribute("kind", "kmeans")
            try f.write("centroids", element: .float32, rows: 3, columns: 2, values: [Float]([0, 1, 2, 3, 4, 5]))
        }
        let m = try ModelFile.loadKMeans(path: good)
        XCTAssertEqual([m.clusters, m.features], [3, 2])
        XCTAssertEqual(m.centroids, [0, 1, 2, 3, 4, 5])

        let noKind = try writeFile("nokind.h5") { f in
            try f.write("centroids", element: .float64, rows: 2, columns: 2, values: [0.0, 1, 2, 3])
        }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: noKind) }, "\(noKind): root attribute 'kind' is missing")
        let otherKind = try writeFile("other.h5") { f in try f.setAttribute("kind", "gmm") }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: otherKind) },
                       "\(otherKind): model kind 'gmm' is not supported (expected \"kmeans\" or \"kernel_kmeans\")")
        let one = try writeFile("one.h5") { f in
            try f.setAttribute("kind", "kmeans")
            try f.write("centroids", element: .float64, rows: 1, columns: 2, values: [0.0, 1])
        }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: one) },
                       "\(one): dataset 'centroids' has 1 row; k-means needs K >= 2 clusters")
        let nan = try writeFile("nan.h5") { f in
            try f.setAttribute("kind", "kmeans")
            try f.write("centroids", element: .float64, rows: 3, columns: 2, values: [0.0, 1, 2, 3, .infinity, 5])
        }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: nan) }, "\(nan): dataset 'centroids' row 2 holds NaN or Inf")
        let strings = try writeFile("str.h5") { f in
            try f.setAttribute("kind", "kmeans")
            try f.writeStrings("centroids", ["a", "b"])
        }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: strings) },
                       "\(strings): dataset 'centroids' has rank 1; expected 2 (rows x features)")
        let noCentroids = try writeFile("noc.h5") { f in try f.setAttribute("kind", "kmeans") }
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: noCentroids) }, "\(noCentroids): no dataset 'centroids'; the file has no datasets")
        let missing = path("nope.h5")
        XCTAssertEqual(message { _ = try ModelFile.loadKMeans(path: missing) }, "\(missing): model file does not exist")
    }

    func testOutputTargetChecks() throws {
        let input = path("in.h5"), model = path("model.h5"), out = path("out.h5")
        XCTAssertEqual(message { try RelevanceOutput.checkTarget(input, overwrite: true, inputPath: input, modelPath: model) },
                       "\(input): output file is the input file (output.file)")
        XCTAssertEqual(message { try RelevanceOutput.checkTarget(model, overwrite: true, inputPath: input, modelPath: model) },
                       "\(model): output file is the model file (output.file)")
        XCTAssertNil(message { try RelevanceOutput.checkTarget(out, overwrite: false, inputPath: input, modelPath: model) })
        try "x".write(toFile: out, atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try RelevanceOutput.checkTarget(out, overwrite: false, inputPath: input, modelPath: model) },
                       "\(out): output file exists; set output.overwrite to true to replace it")
        XCTAssertNil(message { try RelevanceOutput.checkTarget(out, overwrite: true, inputPath: input, modelPath: model) })
        let nodir = path("no/such/out.h5")
        XCTAssertEqual(message { try RelevanceOutput.checkTarget(nodir, overwrite: false, inputPath: input, modelPath: model) },
                       "\(nodir): output directory \(path("no/such")) does not exist")
    }

    func testParallelOutputIsIncompleteUntilFinished() throws {
        // MPI_COMM_WORLD of this test process (a singleton world of one rank).
        let comm = Communicator.world
        let out = path("rel.h5")
        let o = try RelevanceOutput(creating: out, communicator: comm, rows: 5, features: 2, element: .float32,
                                    blocks: 2, key: [("model", "m1")], attributes: [("beta", .double(0.5)), ("model_kind", .string("kmeans"))])
        let r: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        let a: [Int64] = [0, 1, 0, 1, 2]
        let f: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5]
        try r.withUnsafeBytes { rb in
            try o.write(rows: 0, count: 3, relevance: rb.baseAddress, assignment: a, logit: f)
        }
        try r.withUnsafeBytes { rb in
            try o.write(rows: 3, count: 2, relevance: rb.baseAddress! + 6 * 4, assignment: Array(a[3...]), logit: Array(f[3...]))
        }
        try o.write(rows: 5, count: 0, relevance: nil as UnsafeRawPointer?, assignment: nil, logit: nil)     // a rank with no rows
        // 3 row writes x 3 datasets, and the progress record's first values at creation
        XCTAssertEqual(o.independentWrites, 11, "each rank writes its rows of an uncompressed output on its own")
        XCTAssertEqual(o.collectiveFallbacks, 0)
        try o.finish(attributes: [("elapsed_seconds", .double(1))])
        let s = try StoredFile(path: out)
        XCTAssertEqual(try s.stringAttribute("status"), "complete")
        XCTAssertEqual(s.numberAttribute("beta"), 0.5)
        XCTAssertEqual(try s.stringAttribute("model_kind"), "kmeans")
        XCTAssertEqual(try s.doubles("relevance"), r.map { Double($0) })
        XCTAssertEqual(try s.int64s("assignment"), a)
        XCTAssertEqual(try s.doubles("logit"), f)
        XCTAssertEqual(s.shape("relevance"), [5, 2])

        // A file that was abandoned (an error on some rank) never says "complete".
        let partial = path("partial.h5")
        let p = try RelevanceOutput(creating: partial, communicator: comm, rows: 5, features: 2, element: .float32,
                                    blocks: 2, key: [("model", "m1"), ("explain.beta", "auto")], attributes: [])
        try r.withUnsafeBytes { rb in
            try p.write(rows: 0, count: 3, relevance: rb.baseAddress, assignment: a, logit: f)
        }
        try p.markDone(block: 0, conservation: 0.25)
        p.abandon(blocksDone: 1)
        XCTAssertEqual(try StoredFile(path: partial).stringAttribute("status"), "incomplete")
        // ... and records what a resumed run needs
        let state = try PartialOutput.read(path: partial)
        XCTAssertEqual(state.blockDone, [true, false])
        XCTAssertEqual(state.blockConservation.first, 0.25)
        XCTAssertNil(state.mismatch(with: [("model", "m1"), ("explain.beta", "auto")], path: partial))
        XCTAssertEqual(state.mismatch(with: [("model", "m2")], path: partial),
                       "\(partial): cannot resume: model differs (the partial output was made with m1, the job has m2)")
    }
    func testCompressedParallelOutputIsWrittenCollectively() throws {
        // Parallel HDF5 refuses independent writes to filtered datasets: they stay collective,
        // and memory type = file type keeps them so.
        let o = try RelevanceOutput(creating: path("deflate.h5"), communicator: Communicator.world, rows: 4, features: 2,
                                    element: .float32, blocks: 1, key: [], attributes: [], compression: 4)
        let r: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        try r.withUnsafeBytes { rb in
            try o.write(rows: 0, count: 4, relevance: rb.baseAddress, assignment: [0, 1, 0, 1], logit: [1, 2, 3, 4])
        }
        try o.markDone(block: 0, conservation: 0)
        // assignment and logit (never compressed) and the progress record (twice): not relevance
        XCTAssertEqual(o.independentWrites, 6)
        XCTAssertEqual(o.collectiveFallbacks, 0)
        try o.finish(attributes: [])
        XCTAssertEqual(try StoredFile(path: path("deflate.h5")).doubles("relevance"), r.map { Double($0) })
    }

    func testCompleteNamesTheAxesWithDataFreeScalesAndIsRepeatable() throws {
        let n = 50_000
        let out = try writeFile("named.h5") { f in
            try f.write("relevance", element: .float32, dims: [n, 2], values: [Float](repeating: 1, count: 2 * n))
            try f.write("assignment", element: .int64, dims: [n], values: [Int64](repeating: 0, count: n))
            try f.write("logit", element: .float64, dims: [n], values: [Double](repeating: 2, count: n))
            try f.setAttribute("status", "incomplete")
        }
        try RelevanceOutput.complete(path: out)
        try RelevanceOutput.complete(path: out)          // a finish that is repeated (resume after a crash in it)
        let s = try StoredFile(path: out)
        XCTAssertEqual(try s.stringAttribute("status"), "complete")
        XCTAssertEqual(s.dimensionLabels("relevance"), ["sample", "feature"])
        XCTAssertEqual(s.dimensionLabels("assignment"), ["sample"])
        XCTAssertEqual(s.dimensionLabels("logit"), ["sample"])
        XCTAssertEqual(s.shape("sample"), [n])
        XCTAssertEqual(s.shape("feature"), [2])
        XCTAssertEqual(try s.strings(attribute: "CLASS", of: "sample"), ["DIMENSION_SCALE"])
        XCTAssertEqual(try s.strings(attribute: "NAME", of: "sample"), ["This is a netCDF dimension but not a netCDF variable.     50000"])
        let bytes = try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int
        XCTAssertLessThan(bytes, n * (8 + 8 + 8) + 65_536, "the scales hold no data (a stored 'sample' would add \(4 * n) bytes)")

        let spatial = try writeFile("spatial.h5") { f in
            try f.write("relevance", element: .float32, dims: [2, 3, 4, 5], values: [Float](repeating: 0, count: 120))
            try f.write("assignment", element: .int64, dims: [2], values: [Int64]([0, 1]))
            try f.write("logit", element: .float64, dims: [3], values: [0.0, 1, 2])
        }
        XCTAssertEqual(message { try RelevanceOutput.complete(path: spatial) },
                       "\(spatial): dataset 'logit' has 3 along 'sample' but another dataset 2")
        XCTAssertEqual(try StoredFile(path: spatial).dimensionLabels("relevance"), ["sample", "channel", "y", "x"])
        XCTAssertNil(try StoredFile(path: spatial).stringAttribute("status"), "not marked complete after an error")
    }
}
