import Foundation
import XCTest

/// The single-node SLURM cluster of the SLURM tests (slurm/cluster/start-slurm.sh: munge,
/// slurmctld, slurmd on this machine, installed when missing) and commands against it.
enum SlurmCluster {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func script(_ name: String) -> String { root.appendingPathComponent("slurm/\(name)").path }

    struct Result {
        let status: Int32
        let output: String      // stdout and stderr
        let timedOut: Bool
    }

    /// Runs a command (stdout and stderr together) with a time limit; a time-out kills it.
    @discardableResult
    static func run(_ args: [String], in directory: String? = nil, environment extra: [String: String] = [:],
                    timeout: TimeInterval) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        if let d = directory { p.currentDirectoryURL = URL(fileURLWithPath: d) }
        p.environment = environment.merging(extra) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = NeonBatchProcess.Collected()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { data.data = pipe.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        let timedOut = p.isRunning
        if timedOut { p.terminate(); usleep(500_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        _ = done.wait(timeout: .now() + 10)
        return Result(status: p.terminationStatus, output: String(decoding: data.data, as: UTF8.self), timedOut: timedOut)
    }

    /// What sbatch passes on to the jobs: neon-batch's test environment and the executable.
    static var environment: [String: String] {
        var env = NeonBatchProcess.environment
        env["NEON_BATCH"] = NeonBatchProcess.executable.path
        env["OMPI_MCA_pml"] = "ob1"
        return env.filter { !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("SBATCH_") }
    }

    /// Starts the cluster (idempotent: a running one is used as it is); returns what went wrong,
    /// if anything, and whether daemons were started (then `stop` is to stop them).
    static func start() -> (error: String?, started: Bool) {
        do {
            let r = try run(["bash", script("cluster/start-slurm.sh")], environment: ["SLURM_NODE_CPUS": "4"], timeout: 600)
            let started = r.output.contains("[start-slurm] started ")
            return (r.status == 0 && !r.timedOut ? nil : "start-slurm.sh failed (\(r.status)): \(r.output)", started)
        } catch { return ("start-slurm.sh: \(error)", false) }
    }

    /// Stops the daemons start-slurm.sh started.
    static func stop() {
        _ = try? run(["bash", script("cluster/stop-slurm.sh")], timeout: 120)
    }

    /// The job id in sbatch's "Submitted batch job N" line.
    static func jobID(_ sbatchOutput: String) -> String? {
        sbatchOutput.split(separator: "\n").compactMap { line -> String? in
            line.hasPrefix("Submitted batch job ") ? String(line.dropFirst("Submitted batch job ".count)) : nil
        }.first
    }

    /// A field of `scontrol show job ID` (e.g. JobState, Restarts, ExitCode).
    static func field(_ name: String, ofJob id: String) -> String? {
        guard let r = try? run(["scontrol", "show", "job", id], timeout: 30), r.status == 0 else { return nil }
        for token in r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) where token.hasPrefix("\(name)=") {
            return String(token.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Polls `condition` every `interval` seconds until it holds or `timeout` passes; returns whether it held.
    static func poll(timeout: TimeInterval, every interval: TimeInterval = 0.2, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(UInt32(interval * 1e6))
        }
        return condition()
    }
}
