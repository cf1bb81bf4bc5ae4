import Foundation
import NeonCore
import Rendering
import Storage

/// The reports of `neon-batch evaluate`: a Table-I-style markdown table (mean AUC +- standard
/// error per method, the best mean in bold), the same numbers as CSV, and the mean insertion
/// curves of Algorithm 1 as SVG (one line per method).
struct EvaluationReport {
    let job: JobSpec
    let model: NeonModel
    let methods: [ExplanationMethod]
    let contents: EvaluationOutput.Contents
    let sigma: Double
    let beta: Double
    let betaMode: String

    var summary: [(mean: Double, standardError: Double)] { contents.summary }

    /// "folder/file.h5:dataset"
    var datasetName: String {
        let url = URL(fileURLWithPath: job.inputFile)
        return "\(url.deletingLastPathComponent().lastPathComponent)/\(url.lastPathComponent):\(job.inputDataset)"
    }

    var markdown: String {
        let s = summary
        let best = s.map(\.mean).max() ?? 0
        var t = "| dataset | N | d | K | model | " + methods.map(\.heading).joined(separator: " | ") + " |\n"
        t += "|---|---:|---:|---:|---|" + String(repeating: "---:|", count: methods.count) + "\n"
        t += "| \(datasetName) | \(contents.samples) | \(contents.features) | \(model.clusters) | \(model.kind) | "
        t += s.map { v in
            let cell = String(format: "%.2f ± %.2f", v.mean, v.standardError)
            return v.mean == best ? "**\(cell)**" : cell
        }.joined(separator: " | ") + " |\n"
        let betaText = methods.contains(.neon) ? String(format: "%.6g (%@)", beta, betaMode) : "unused"
        // Without KDE (sigma NaN), d counts channels of activations and missing ones are zero.
        let imputation = sigma.isNaN ? "d = channels, missing channels set to zero"
                                     : "KDE imputation sigma \(String(format: "%.6g", sigma))"
        return """
            AUC of Algorithm 1 (x 100 / d; higher is better), mean ± standard error over the \(contents.samples) samples \
            of the per-sample mean over \(contents.repeats) repeat(s); \(imputation), \
            NEON beta \(betaText).

            \(t)
            """
    }

    var csv: String {
        var t = "method,mean_auc,standard_error,samples,repeats\n"
        for (m, v) in zip(methods, summary) {
            t += "\(m.rawValue),\(String(format: "%.6f", v.mean)),\(String(format: "%.6f", v.standardError)),\(contents.samples),\(contents.repeats)\n"
        }
        return t
    }

    var svg: String {
        let d = contents.features
        let series = methods.enumerated().map { m, method in
            (name: String(format: "%@ (%.1f)", method.heading, summary[m].mean),
             values: Array(contents.curve[(m * d)..<((m + 1) * d)]))
        }
        return LineChart(title: "Insertion curves (Algorithm 1): \(datasetName), \(model.kind) K = \(model.clusters)",
                         xLabel: "fraction of \(sigma.isNaN ? "channels" : "features") added (most relevant first)",
                         yLabel: "fraction of imputed samples assigned to c", series: series).svg()
    }

    func write(_ paths: EvaluationPaths) throws {
        for (path, text) in [(paths.markdown, markdown), (paths.csv, csv), (paths.svg, svg)] {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
                throw StorageError("\(path): cannot write report (\((error as NSError).localizedDescription))")
            }
        }
    }
}
