import ArgumentParser
import Foundation
import NeonPipeline
import Storage

struct Join: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the part outputs of an export (run --part I/N, or input.rows) into one output file.",
        discussion: """
            neon-batch join JOB.json --parts N: joins the files `run JOB.json --part I/N` \
            wrote (output.file with .part-I-of-N before its extension, I = 0..N-1) into \
            output.file (replaced only with output.overwrite); the parts must cover the job's \
            rows (input.rows, or all).

            neon-batch join --output OUT.h5 [--overwrite] PART.h5...: joins part files in any \
            order; they must cover all the input rows.

            The parts must be complete, of one job (input, model, beta, block_rows) and must not \
            overlap or leave rows out. The joined file has status "complete" and equals the output \
            of a single run over the same rows (datasets and attributes, except timing). One \
            process, no MPI; the part files are left in place.
            """)

    @Argument(help: "The job file (with --parts), or the part files (with --output).")
    var files: [String] = []

    @Option(help: "The number of parts N the job was split into with run --part I/N.")
    var parts: Int?

    @Option(help: "The joined output file (when part files are given).")
    var output: String?

    @Flag(help: "Replace an existing output file (with --output; a job uses output.overwrite).")
    var overwrite = false

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        if let n = parts {
            guard n >= 1 else { throw ValidationError("--parts must be at least 1") }
            guard files.count == 1, output == nil, !overwrite else {
                throw ValidationError("--parts takes one job file and no --output or --overwrite (the job names the output)")
            }
        } else {
            guard output != nil else { throw ValidationError("give a job file and --parts N, or --output OUT.h5 and the part files") }
            guard !files.isEmpty else { throw ValidationError("no part files given") }
        }
    }

    func run() throws {
        HDF5Library.silenceErrorStack()
        let absolute = { (p: String) in URL(fileURLWithPath: p).standardizedFileURL.path }
        do {
            let summary: OutputJoin.Summary
            let target: String
            if let n = parts {
                let job = try JobSpec.load(path: files[0])
                target = job.outputFile
                var expected: Range<Int>? = job.rows
                if expected == nil, let first = Part.files(for: job.outputFile, count: n).first,
                   let f = try? StoredFile(path: first), let all = f.numberAttribute("input_rows") {
                    expected = 0..<Int(all)
                }
                summary = try OutputJoin.join(parts: Part.files(for: job.outputFile, count: n), into: target,
                                              overwrite: job.overwrite,
                                              overwriteHint: "set output.overwrite to true to replace it",
                                              expected: expected)
            } else {
                target = absolute(output!)
                summary = try OutputJoin.join(parts: files.map(absolute), into: target, overwrite: overwrite)
            }
            if !quiet {
                print("neon-batch: joined \(summary.parts) part\(summary.parts == 1 ? "" : "s") (rows \(summary.rows.lowerBound)..<\(summary.rows.upperBound) of \(summary.inputRows), \(summary.features) features) into \(target) (status complete)")
            }
        } catch let e as StorageError {
            fail(e.message)
        } catch let e as JobError {
            fail(e.message)
        }
    }
}
