import Foundation
import XCTest
import Storage

/// Runs the built neon-batch executable, directly or under its MPI's launcher, with a time limit.
enum NeonBatchProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        /// The lines neon-batch itself printed as errors.
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("neon-batch: error: ") } }
    }

    static var executable: URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("neon-batch"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("neon-batch"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/neon-batch"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Whether the executable is built against MPICH (ldd shows libmpich) rather than Open MPI.
    static let builtAgainstMPICH: Bool = {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ldd", executable.path]
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.contains("libmpich")
    }()

    /// The launcher of the executable's MPI: MPICH's hydra (`mpiexec.mpich`) or Open MPI's `mpirun`;
    /// NEON_MPIEXEC in the environment overrides it (e.g. a site's `mpiexec`).
    static var launcher: String {
        if let l = ProcessInfo.processInfo.environment["NEON_MPIEXEC"], !l.isEmpty { return l }
        return builtAgainstMPICH ? "mpiexec.mpich" : "mpirun"
    }

    /// The environment for a child: without the MPI variables this test process may have picked up
    /// (a child launcher fails silently with them), with what Open MPI's mpirun needs here (root,
    /// oversubscription; MPICH's hydra needs neither).
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { k, _ in
            !(k.hasPrefix("OMPI_") || k.hasPrefix("PMIX_") || k.hasPrefix("OPAL_") || k.hasPrefix("ORTE_")
              || k.hasPrefix("PMI_") || k == "MPI_LOCALNRANKS" || k == "MPI_LOCALRANKID")
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        return env
    }

    /// neon-batch ARGS, under `mpirun -n ranks` (or MPICH's launcher: `launcher`) when ranks is given. Fails the test on a time-out
    /// (a hang is a bug: every rank must end promptly).
    /// `prefix` is a command that runs the rest (e.g. setpriv to drop privileges, a shell with ulimit).
    /// `rankPrefix` runs each rank (e.g. a shell that sets a limit for the ranks, not for mpirun).
    /// `launcher` starts the ranks (default: the executable's MPI's, `NeonBatchProcess.launcher`; or
    /// scripts/mpirun.sh); `started` receives the PID of
    /// the process started (the launcher, or `prefix`'s first command).
    @discardableResult
    static func run(_ args: [String], ranks: Int? = nil, timeout: TimeInterval = 120, prefix: [String] = [],
                    rankPrefix: [String] = [], launcher: String? = nil, started: StartedProcess? = nil,
                    extraEnvironment: [String: String] = [:],
                    file: StaticString = #filePath, line: UInt = #line, whileRunning: () -> Void = {}) throws -> Result {
        let p = Process()
        let command = (ranks.map { [launcher ?? Self.launcher, "-n", "\($0)"] } ?? []) + rankPrefix + [executable.path] + args
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = prefix + command
        p.environment = environment.merging(extraEnvironment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        started?.pid = p.processIdentifier
        // Drain both pipes while waiting (a full pipe would block the child).
        let outData = Collected(), errData = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline {
            whileRunning()
            usleep(20_000)
        }
        if p.isRunning {
            p.terminate()
            kill(-p.processIdentifier, SIGKILL)
            XCTFail("neon-batch \(args.joined(separator: " ")) did not end within \(timeout) s", file: file, line: line)
        }
        p.waitUntilExit()
        group.wait()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// PIDs of running neon-batch processes that have `path`, a full path unique to the test (in
    /// its fixture folder), among their arguments. A relative path matches nothing: another
    /// engineer's or test's `job.json` must never be signalled.
    static func childPIDs(matching path: String) -> [Int32] {
        guard path.hasPrefix("/") else { return [] }
        let argument = URL(fileURLWithPath: path).standardizedFileURL.path
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return procs.compactMap(Int32.init).filter { pid in
            guard let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let parts = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return parts.first?.hasSuffix("neon-batch") == true && parts.contains(argument)
        }.sorted()
    }

    /// The PID of a process `run` started, for signalling it while it runs.
    final class StartedProcess { var pid: Int32 = 0 }

    /// One pipe's bytes, filled by its reader thread (read after group.wait()).
    final class Collected: @unchecked Sendable { var data = Data() }
}

extension NeonBatchProcess {
    /// Runs a shell command line and returns its exit status (output discarded).
    static func shell(_ command: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}

extension NeonBatchProcess {
    /// Runs neon-batch ARGS and, once the output's progress dataset (1 per done block) shows
    /// `blocks` done blocks, calls `act` once with the PIDs of the processes whose command line
    /// contains `job`. Returns the result and whether `act` ran (false: the job ended first).
    static func run(_ args: [String], ranks: Int, timeout: TimeInterval = 120, job: String, output: String,
                    progress dataset: String, afterBlocks blocks: Int, _ act: ([Int32]) -> Void) throws -> (Result, acted: Bool) {
        var acted = false
        let r = try run(args, ranks: ranks, timeout: timeout) {
            guard !acted, blocksDone(output, progress: dataset) >= blocks else { return }
            let pids = childPIDs(matching: job)
            act(pids)
            acted = !pids.isEmpty
        }
        return (r, acted)
    }

    /// The number of done blocks in an output's progress dataset (0 while it cannot be read).
    static func blocksDone(_ output: String, progress dataset: String) -> Int {
        guard let s = try? StoredFile(path: output), let done = try? s.int64s(dataset) else { return 0 }
        return done.filter { $0 == 1 }.count
    }

    /// The repository's scripts/mpirun.sh.
    static var mpirunScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/mpirun.sh").path
    }

    /// Pauses the processes, fills the device of `directory` with a file, and lets them go on.
    /// Returns whether the filler stopped on ENOSPC.
    @discardableResult
    static func fillDevice(_ directory: URL, whilePausing pids: [Int32]) -> Bool {
        pids.forEach { kill($0, SIGSTOP) }
        defer { pids.forEach { kill($0, SIGCONT) } }
        return (try? shell("dd if=/dev/zero of='\(directory.path)/filler' bs=64k 2>&1 | grep -q 'No space left on device'")) == 0
    }
}
