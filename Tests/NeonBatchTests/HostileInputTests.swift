import Foundation
@testable import Storage
import XCTest

/// Hostile inputs under mpirun -n 2 (issue "long exports that survive interruption"): damaged
/// and malformed files, impossible sizes, unusable paths, a full disk. Each one: a non-zero exit
/// of every rank within the time limit, the exact one-line message printed once, no output that
/// claims to be complete, and an existing output file left as it was.
final class HostileInputTests: XCTestCase {
    var fx: Fixture!
    let ranks = 2
    let rows = 400, features = 3

    override func setUpWithError() throws {
        fx = try Fixture()
        let data = Fixture.blobs(rows: rows, features: features, clusters: 3, seed: 5)
        try fx.writeInput(rows: rows, features: features, values: data.x)
        try fx.writeModel(clusters: 3, features: features, centroids: data.centroids)
    }

    override func tearDown() { fx.remove() }

    @discardableResult
    func assertFails(_ job: String, _ message: String, output: String? = nil, prefix: [String] = [],
                     rankPrefix: [String] = [],
                     file: StaticString = #filePath, line: UInt = #line) throws -> NeonBatchProcess.Result {
        let r = try NeonBatchProcess.run([job, "-q"], ranks: ranks, timeout: 60, prefix: prefix, rankPrefix: rankPrefix,
                                         file: file, line: line)
        XCTAssertNotEqual(r.status, 0, "exit status", file: file, line: line)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(message)"], r.stderr, file: file, line: line)
        if let s = try? StoredFile(path: output ?? fx.path("out.h5")) {
            XCTAssertNotEqual(try? s.stringAttribute("status"), "complete", file: file, line: line)
        }
        return r
    }

    /// A copy of `source` cut to `fraction` of its length.
    func truncatedCopy(of source: String, to name: String, fraction: Double) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: fx.path(name)))
        return fx.path(name)
    }

    func testTruncatedAndEmptyFiles() throws {
        let input = try truncatedCopy(of: fx.path("data.h5"), to: "cut.h5", fraction: 0.5)
        try assertFails(try fx.writeJob(input: "cut.h5"), "\(input): input file is truncated or damaged (HDF5 cannot open it)")
        let model = try truncatedCopy(of: fx.path("model.h5"), to: "mcut.h5", fraction: 0.8)
        try assertFails(try fx.writeJob(model: "mcut.h5"), "\(model): model file is truncated or damaged (HDF5 cannot open it)")
        try Data().write(to: URL(fileURLWithPath: fx.path("empty.h5")))
        try assertFails(try fx.writeJob(input: "empty.h5"), "\(fx.path("empty.h5")): input file is not an HDF5 file")
        try Data("{\"kind\": \"kmeans\"}".utf8).write(to: URL(fileURLWithPath: fx.path("json.h5")))
        try assertFails(try fx.writeJob(model: "json.h5"), "\(fx.path("json.h5")): model file is not an HDF5 file")
    }

    func testCompoundZeroRowAndZeroFeatureDatasets() throws {
        let f = try H5WriteFile(creating: fx.path("odd.h5"), communicator: nil)
        try f.writeCompoundDataset("pairs", rows: 5)
        try f.write("empty", element: .float32, rows: 0, columns: features, values: [Float]())
        try f.write("nofeatures", element: .float64, dims: [7, 0], values: [Double]())
        try f.close()
        let odd = fx.path("odd.h5")
        try assertFails(try fx.writeJob(input: "odd.h5", dataset: "pairs"),
                        "\(odd): dataset 'pairs' has compound type; expected float32 or float64")
        try assertFails(try fx.writeJob(input: "odd.h5", dataset: "empty"), "\(odd): dataset 'empty' has no rows")
        try assertFails(try fx.writeJob(input: "odd.h5", dataset: "nofeatures"), "\(odd): dataset 'nofeatures' has no features")

        let m = try H5WriteFile(creating: fx.path("mcompound.h5"), communicator: nil)
        try m.setAttribute("kind", "kmeans")
        try m.writeCompoundDataset("centroids", rows: 3)
        try m.close()
        try assertFails(try fx.writeJob(model: "mcompound.h5"),
                        "\(fx.path("mcompound.h5")): dataset 'centroids' has compound type; expected float32 or float64")
    }

    func testDimensionsBeyondAddressableAndBeyondMemory() throws {
        let f = try H5WriteFile(creating: fx.path("huge.h5"), communicator: nil)
        try f.createSparseDataset("rows", dims: [1 << 45, 3])
        try f.createSparseDataset("wide", dims: [10, 1 << 30])
        try f.close()
        let huge = fx.path("huge.h5")
        try assertFails(try fx.writeJob(input: "huge.h5", dataset: "rows"),
                        "\(huge): dataset 'rows' has dimensions 35184372088832 x 3, beyond what neon-batch can address")
        try assertFails(try fx.writeJob(input: "huge.h5", dataset: "wide"),
                        "\(huge): dataset 'wide' has dimensions 10 x 1073741824, beyond what neon-batch can address")

        // Addressable, but a model is read whole: 2^28 x 2^20 float64 would be 2 PiB.
        let m = try H5WriteFile(creating: fx.path("mhuge.h5"), communicator: nil)
        try m.setAttribute("kind", "kmeans")
        try m.createSparseDataset("centroids", dims: [1 << 28, 1 << 20])
        try m.close()
        let memory = String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)
        try assertFails(try fx.writeJob(model: "mhuge.h5"),
                        "\(fx.path("mhuge.h5")): dataset 'centroids' (268435456 x 1048576) needs 2097152.0 GiB in memory; this machine has \(memory)")
    }

    func testNonFiniteKernelModelValues() throws {
        let f = try H5WriteFile(creating: fx.path("kinf.h5"), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", 1.0)
        try f.write("support_vectors", element: .float32, rows: 3, columns: features,
                    values: [Float]([0, 0, 0, 1, 1, 1, 2, .infinity, 2]))
        try f.write("support_cluster", element: .int64, dims: [3], values: [Int64]([0, 1, 1]))
        try f.close()
        try assertFails(try fx.writeJob(model: "kinf.h5"), "\(fx.path("kinf.h5")): dataset 'support_vectors' row 2 holds NaN or Inf")
        let g = try H5WriteFile(creating: fx.path("kgamma.h5"), communicator: nil)
        try g.setAttribute("kind", "kernel_kmeans")
        try g.setAttribute("gamma", Double.nan)
        try g.write("support_vectors", element: .float32, rows: 2, columns: features, values: [Float](repeating: 1, count: 6))
        try g.write("support_cluster", element: .int64, dims: [2], values: [Int64]([0, 1]))
        try g.close()
        try assertFails(try fx.writeJob(model: "kgamma.h5"), "\(fx.path("kgamma.h5")): gamma must be a finite number > 0, got nan")
    }

    func testPathsThatAreDirectories() throws {
        try FileManager.default.createDirectory(atPath: fx.path("d.h5"), withIntermediateDirectories: false)
        try assertFails(try fx.writeJob(input: "d.h5"), "\(fx.path("d.h5")): input file is a directory")
        try assertFails(try fx.writeJob(model: "d.h5"), "\(fx.path("d.h5")): model file is a directory")
        try assertFails(try fx.writeJob(output: "d.h5", overwrite: true), "\(fx.path("d.h5")): output file is a directory (output.file)")
        try assertFails(fx.dir.path, "\(fx.dir.path): job file is a directory")
    }

    func testOutputIsTheModelOrTheInputThroughALink() throws {
        try assertFails(try fx.writeJob(output: "model.h5", overwrite: true),
                        "\(fx.path("model.h5")): output file is the model file (output.file)")
        try FileManager.default.createSymbolicLink(atPath: fx.path("alias.h5"), withDestinationPath: fx.path("data.h5"))
        try assertFails(try fx.writeJob(output: "alias.h5", overwrite: true),
                        "\(fx.path("alias.h5")): output file is the input file (output.file)")
        XCTAssertNoThrow(try InputDataset(path: fx.path("data.h5"), dataset: "features"), "the input is intact")
    }

    /// Permissions do not stop root, so these run neon-batch as an unprivileged user when the
    /// tests run as root (as in CI), and directly otherwise.
    var unprivileged: [String] {
        getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"] : []
    }

    func testUnreadableFilesAndUnwritableOutputDirectory() throws {
        // Every file is readable by others; the folder is writable only by its owner.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fx.dir.path)
        for name in ["data.h5", "model.h5"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fx.path(name))
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("neon-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: out.path)
        let outFile = out.appendingPathComponent("out.h5").path

        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: fx.path("data.h5"))
        try assertFails(try fx.writeJob("j1.json", output: outFile), "\(fx.path("data.h5")): input file is not readable",
                        output: outFile, prefix: unprivileged)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fx.path("data.h5"))
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: fx.path("model.h5"))
        try assertFails(try fx.writeJob("j2.json", output: outFile), "\(fx.path("model.h5")): model file is not readable",
                        output: outFile, prefix: unprivileged)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fx.path("model.h5"))
        let job3 = try fx.writeJob("j3.json", output: outFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: job3)
        try assertFails(job3, "\(job3): cannot read job file (Permission denied)", output: outFile, prefix: unprivileged)
        // Output into the fixture folder, which the unprivileged user cannot write.
        try assertFails(try fx.writeJob("j4.json"), "\(fx.path("out.h5")): output directory \(fx.dir.path) is not writable",
                        prefix: unprivileged)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fx.path("out.h5")))
        // The same user can write the other folder: the job runs.
        let ok = try NeonBatchProcess.run([try fx.writeJob("j5.json", output: outFile), "-q"], ranks: ranks, prefix: unprivileged)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try StoredFile(path: outFile).stringAttribute("status"), "complete")
    }

    /// A job with 12 MB of relevance in `blocks` blocks.
    func bigJob(output: String, rows n: Int = 30000, blockRows: Int = 3000, clusters: Int = 4) throws -> String {
        let d = 100
        let data = Fixture.blobs(rows: n, features: d, clusters: clusters, seed: 8)
        try fx.writeInput("big.h5", rows: n, features: d, values: data.x)
        try fx.writeModel("bigmodel.h5", clusters: clusters, features: d, centroids: data.centroids)
        return try fx.writeJob("big.json", input: "big.h5", model: "bigmodel.h5", output: output,
                               beta: "0.5", blockRows: blockRows)
    }

    func testOutputThatCannotFitIsRefusedBeforeWriting() throws {
        let (mnt, unmount) = try smallFilesystem("512k")
        defer { unmount() }
        let out = mnt.appendingPathComponent("out.h5").path
        let job = try bigJob(output: out)
        let need = String(format: "%.1f MB", Double(RelevanceOutput.expectedBytes(rows: 30000, features: 100, element: .float32, blocks: 10)) / 1e6)
        try assertFails(job, "\(out): the output needs \(need) but its device has 0.5 MB free", output: out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testFileSizeLimitIsCheckedBeforeWriting() throws {
        let out = fx.path("out.h5")
        let job = try bigJob(output: out)
        let need = String(format: "%.1f MB", Double(RelevanceOutput.expectedBytes(rows: 30000, features: 100, element: .float32, blocks: 10)) / 1e6)
        // ulimit -f counts 1024-byte blocks: 8 MiB, for the ranks only (MPI's shared-memory
        // segments count against it too and need a few MiB; mpirun's own files are larger).
        try assertFails(job, "\(out): the output needs \(need) but the file size limit (ulimit -f) is 8.4 MB",
                        rankPrefix: ["bash", "-c", "ulimit -f 8192; exec \"$@\"", "bash"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// The device fills up while blocks are being written (another process takes the space):
    /// the output's space was reserved when it was created, so the filler gets ENOSPC and the
    /// job completes, with the output of a run on a roomy disk. (Before the reservation, a write
    /// failing on one rank only could hang the MPICH build, docs/running.md.)
    func testDeviceFillsUpDuringTheWrite() throws {
        let (mnt, unmount) = try smallFilesystem("24m")
        defer { unmount() }
        let out = mnt.appendingPathComponent("out.h5").path
        let job = try bigJob(output: out, rows: 50000, blockRows: 500, clusters: 500)
        let expected = RelevanceOutput.expectedBytes(rows: 50000, features: 100, element: .float32, blocks: 100)
        // Once a few blocks are done: pause the ranks, note what the output holds, fill the device, let them go on.
        var held: UInt64 = 0, fillerFailed = false
        let (r, filled) = try NeonBatchProcess.run([job, "-q"], ranks: ranks, timeout: 90, job: job, output: out,
                                                   progress: RelevanceOutput.blockDoneDataset, afterBlocks: 2) { pids in
            held = allocatedBytes(out)
            fillerFailed = NeonBatchProcess.fillDevice(mnt, whilePausing: pids)
        }
        XCTAssertTrue(filled, "the run ended before the device could be filled")
        XCTAssertGreaterThanOrEqual(held, expected, "2 of 100 blocks written, the output's space should be allocated already")
        XCTAssertTrue(fillerFailed, "the filler should have run out of space")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.errorLines, [], r.stderr)
        // The reservation beyond the file's end is given back.
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out)[.size] as? UInt64)
        XCTAssertLessThan(allocatedBytes(out), size + 65536)
        let ref = try NeonBatchProcess.run([try bigJob(output: fx.path("ref.h5"), rows: 50000, blockRows: 500, clusters: 500), "-q"],
                                           ranks: ranks, timeout: 90)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        try assertSameOutput(out, fx.path("ref.h5"), ignoring: ["created", "elapsed_seconds", "job", "job_file"])
    }

    /// A stopped run whose device filled up meanwhile: --resume reserves the rest of the output's
    /// space before writing, so every rank exits 1 at once with the message and the partial output
    /// is kept as it was; once there is room, --resume completes it.
    func testResumeOnAFullDeviceIsRefusedUntilThereIsRoom() throws {
        let (mnt, unmount) = try smallFilesystem("24m")
        defer { unmount() }
        let out = mnt.appendingPathComponent("out.h5").path
        let job = try bigJob(output: out, rows: 50000, blockRows: 500, clusters: 500)
        let (stopped, sent) = try NeonBatchProcess.run([job, "-q"], ranks: ranks, timeout: 90, job: job, output: out,
                                                       progress: RelevanceOutput.blockDoneDataset, afterBlocks: 2) { pids in
            pids.forEach { kill($0, SIGTERM) }
        }
        XCTAssertTrue(sent, "the run ended before it could be stopped")
        XCTAssertEqual(stopped.status, 75, stopped.stderr)
        let done = NeonBatchProcess.blocksDone(out, progress: RelevanceOutput.blockDoneDataset)
        XCTAssertTrue(NeonBatchProcess.fillDevice(mnt, whilePausing: []), "the filler should have run out of space")

        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let started = Date()
        let full = try NeonBatchProcess.run([job, "--resume", "-q"], ranks: ranks, timeout: 60)
        XCTAssertEqual(full.status, 1, full.stderr)
        // The one line, and no failed write (Open MPI's MPI-IO would report one): none was tried.
        XCTAssertEqual(full.stderr.split(separator: "\n").map(String.init).filter { $0.lowercased().contains("no space left") },
                       ["neon-batch: error: \(out): cannot write the output: no space left on the device"], full.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "the partial output is kept as it was")
        XCTAssertEqual(NeonBatchProcess.blocksDone(out, progress: RelevanceOutput.blockDoneDataset), done)

        try FileManager.default.removeItem(at: mnt.appendingPathComponent("filler"))
        let resumed = try NeonBatchProcess.run([job, "--resume", "-q"], ranks: ranks, timeout: 90)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let ref = try NeonBatchProcess.run([try bigJob(output: fx.path("ref.h5"), rows: 50000, blockRows: 500, clusters: 500), "-q"],
                                           ranks: ranks, timeout: 90)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        try assertSameOutput(out, fx.path("ref.h5"), ignoring: ["created", "elapsed_seconds", "job", "job_file"])
    }
}

extension HostileInputTests {
    /// A file size limit on one rank only (limits can differ between nodes): a write failing on
    /// one rank can leave parallel HDF5 waiting in a collective call on the others, so every
    /// rank checks its own limit before the output is created, and the rank that fails says so.
    /// (Rank 1 is OMPI_COMM_WORLD_RANK under Open MPI's mpirun, PMI_RANK under MPICH's hydra.)
    func testFileSizeLimitOfOneRankIsCheckedBeforeWriting() throws {
        let out = fx.path("out.h5")
        let job = try bigJob(output: out)
        let started = Date()
        let r = try NeonBatchProcess.run([job, "-q"], ranks: ranks, timeout: 90,
                                         rankPrefix: ["bash", "-c", "[ \"${OMPI_COMM_WORLD_RANK:-$PMI_RANK}\" = 1 ] && ulimit -f 8192; exec \"$@\"", "bash"])
        XCTAssertNotEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(out): the output needs \(String(format: "%.1f MB", Double(RelevanceOutput.expectedBytes(rows: 30000, features: 100, element: .float32, blocks: 10)) / 1e6)) but the file size limit (ulimit -f) is 8.4 MB"], r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        XCTAssertNotEqual(try? StoredFile(path: out).stringAttribute("status"), "complete")
    }
}

extension HostileInputTests {
    /// With output.overwrite true, a job that fails its checks leaves the existing output as it
    /// was: every input and model check happens before the output is replaced.
    func testExistingOutputSurvivesAFailingJob() throws {
        let good = try NeonBatchProcess.run([try fx.writeJob("good.json"), "-q"], ranks: ranks)
        XCTAssertEqual(good.status, 0, good.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: fx.path("out.h5")))
        _ = try truncatedCopy(of: fx.path("data.h5"), to: "cut.h5", fraction: 0.5)
        let f = try H5WriteFile(creating: fx.path("odd.h5"), communicator: nil)
        try f.writeCompoundDataset("features", rows: 5)
        try f.close()
        for (name, input) in [("cut.json", "cut.h5"), ("odd.json", "odd.h5"), ("none.json", "none.h5")] {
            let r = try NeonBatchProcess.run([try fx.writeJob(name, input: input, overwrite: true), "-q"], ranks: ranks, timeout: 60)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fx.path("out.h5"))), before, name)
        }
    }
}
