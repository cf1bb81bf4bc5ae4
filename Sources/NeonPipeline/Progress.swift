import Foundation

/// Progress of long work on stderr (rank 0 only): a live bar on a terminal, otherwise a line
/// every few seconds (e.g. in SLURM logs). Silent with --quiet.
final class Progress {
    private let enabled: Bool
    private let live: Bool
    private let interval: Double
    private var phase = ""
    private var total = 0
    private var done = 0
    private var phaseStart = Date()
    private var lastPrint = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled
        live = isatty(2) != 0
        interval = live ? 0.2 : 5
    }

    func begin(_ phase: String, total: Int) {
        self.phase = phase
        self.total = total
        done = 0
        phaseStart = Date()
        lastPrint = Date()
    }

    func advance(_ rows: Int) {
        done += rows
        guard enabled else { return }
        let now = Date()
        if done >= total || now.timeIntervalSince(lastPrint) >= interval {
            lastPrint = now
            report(now, final: done >= total)
        }
    }

    private func report(_ now: Date, final: Bool) {
        let elapsed = max(now.timeIntervalSince(phaseStart), 1e-9)
        let rate = Double(done) / elapsed
        let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let stats = String(format: "%d/%d rows (%.0f%%), %.0f rows/s, %@", done, total, pct, rate,
                           final ? String(format: "%.1f s", elapsed) : String(format: "ETA %.0f s", eta))
        if live {
            let width = 24
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write("\r\(phase) [\(bar)] \(stats)\u{1B}[K" + (final ? "\n" : ""))
        } else {
            write("neon-batch: \(phase): \(stats)\n")
        }
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
