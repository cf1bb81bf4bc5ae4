import Foundation
import NeonCore
import Storage

extension FitRunner {
    /// The elbow helper: one k-means fit per K on the same shard (same seed), then rank 0 writes
    /// the inertia per K as CSV, a markdown table and an SVG plot.
    func elbowRun<T: FitScalar>(_ s: Shared, shard: FitShard<T>, collectives: MPIFitCollectives, meanVariance: Double,
                                 clusters: [Int], prefix: String?) throws {
        var rows: [ElbowReport.Row] = []
        for k in clusters {
            let timing = IterationClock()
            let fitter = KMeansFitter(shard: shard, collectives: collectives, settings: kmeansSettings(s.spec, clusters: k),
                                      meanVariance: meanVariance)
            let r = fitter.fit { p in self.report(p, s.spec.restarts, "K = \(k) inertia", "shift", seconds: timing.tick(p)) }
            rows.append(.init(clusters: k, inertia: r.inertia, iterations: r.iterations, converged: r.converged))
            say(String(format: "neon-batch: K = %d: inertia %.9g after %d iterations", k, r.inertia, r.iterations))
        }
        let base = prefix.map { JobSpecPaths.absolute($0) }
            ?? ((s.spec.outputFile as NSString).deletingPathExtension + "-elbow")
        var err: String?
        if comm.isRoot {
            do {
                let report = ElbowReport(rows: rows, title: "\(s.spec.inputDataset) of \((s.spec.inputFile as NSString).lastPathComponent)")
                try report.csv.write(toFile: base + ".csv", atomically: true, encoding: .utf8)
                try report.markdown.write(toFile: base + ".md", atomically: true, encoding: .utf8)
                try report.svg.write(toFile: base + ".svg", atomically: true, encoding: .utf8)
            } catch { err = "\(base).csv: cannot write the elbow report (\(error.localizedDescription))" }
        }
        try check(err)
        say("neon-batch: wrote \(base).csv, \(base).md, \(base).svg")
        say("neon-batch: blas: \(ComputeSetup.blasSummary)")
    }
}

enum JobSpecPaths {
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
}

/// Inertia per K as CSV, markdown and an SVG line plot (for the elbow method).
struct ElbowReport {
    struct Row {
        let clusters: Int
        let inertia: Double
        let iterations: Int
        let converged: Bool
    }

    let rows: [Row]
    let title: String

    var csv: String {
        "clusters,inertia,iterations,converged\n"
            + rows.map { "\($0.clusters),\(String(format: "%.17g", $0.inertia)),\($0.iterations),\($0.converged)" }
                .joined(separator: "\n") + "\n"
    }

    var markdown: String {
        "| K | inertia | iterations | converged |\n| ---: | ---: | ---: | :---: |\n"
            + rows.map { "| \($0.clusters) | \(String(format: "%.6g", $0.inertia)) | \($0.iterations) | \($0.converged ? "yes" : "no") |" }
                .joined(separator: "\n") + "\n"
    }

    var svg: String {
        let (w, h, left, right, top, bottom) = (640.0, 400.0, 80.0, 20.0, 40.0, 50.0)
        let ks = rows.map { Double($0.clusters) }, ys = rows.map(\.inertia)
        let (x0, x1) = (ks.min() ?? 0, max(ks.max() ?? 1, (ks.min() ?? 0) + 1))
        let y1 = (ys.max() ?? 1) * 1.05, y0 = 0.0
        func px(_ k: Double) -> Double { left + (k - x0) / (x1 - x0) * (w - left - right) }
        func py(_ v: Double) -> Double { h - bottom - (v - y0) / max(y1 - y0, 1e-300) * (h - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(w / 2))" y="22" text-anchor="middle" font-size="14">k-means inertia per K (elbow): \(esc(title))</text>
            <line x1="\(f(left))" y1="\(f(h - bottom))" x2="\(f(w - right))" y2="\(f(h - bottom))" stroke="black"/>
            <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(h - bottom))" stroke="black"/>
            <text x="\(f((left + w - right) / 2))" y="\(f(h - 12))" text-anchor="middle">K (clusters)</text>
            <text x="18" y="\(f((top + h - bottom) / 2))" text-anchor="middle" transform="rotate(-90 18 \(f((top + h - bottom) / 2)))">inertia</text>

            """
        for i in 0...4 {
            let v = y0 + (y1 - y0) * Double(i) / 4
            out += "<line x1=\"\(f(left - 4))\" y1=\"\(f(py(v)))\" x2=\"\(f(left))\" y2=\"\(f(py(v)))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        let every = max(1, rows.count / 12)
        for (i, k) in ks.enumerated() where i % every == 0 || i == ks.count - 1 {
            out += "<line x1=\"\(f(px(k)))\" y1=\"\(f(h - bottom))\" x2=\"\(f(px(k)))\" y2=\"\(f(h - bottom + 4))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(px(k)))\" y=\"\(f(h - bottom + 17))\" text-anchor=\"middle\">\(Int(k))</text>\n"
        }
        let points = zip(ks, ys).map { "\(f(px($0))),\(f(py($1)))" }.joined(separator: " ")
        out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        for (k, v) in zip(ks, ys) {
            out += "<circle cx=\"\(f(px(k)))\" cy=\"\(f(py(v)))\" r=\"3.5\" fill=\"#1f77b4\"><title>K = \(Int(k)): \(String(format: "%.6g", v))</title></circle>\n"
        }
        return out + "</svg>\n"
    }
}
