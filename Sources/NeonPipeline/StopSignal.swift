import Dispatch
import Foundation

/// SIGTERM / SIGINT (SLURM sends SIGTERM before its time limit; `--signal` can make it early)
/// ask for a clean stop: the job finishes the block in flight, records its progress, closes the
/// output ("incomplete", resumable) and exits with `ExitStatus.interrupted`.
package enum StopSignal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var received: Int32 = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    package static func install() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)                // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                lock.lock()
                if received == 0 { received = sig }
                lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal that asked to stop, or nil.
    static var requested: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received == 0 ? nil : received
    }

    static func name(_ sig: Int32) -> String { sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal \(sig)" }
}
