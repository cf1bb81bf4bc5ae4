import Foundation
import Storage

/// `run --part I/N`: the I-th (from 0) of N contiguous parts of the rows a job explains, for a
/// SLURM job array (I = SLURM_ARRAY_TASK_ID). Parts are whole blocks of execution.block_rows
/// rows, so the blocks of the parts, joined, are the blocks of a single run. A part writes its
/// own file next to output.file (out.h5 -> out.part-I-of-N.h5); `neon-batch join` joins them.
package struct Part: Equatable, Sendable {
    package let index: Int
    package let count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Any "I/N" of two integers; `problem` says what is wrong with one out of range.
    package init?(argument: String) {
        let fields = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let i = Int(fields[0]), let n = Int(fields[1]) else { return nil }
        self.init(index: i, count: n)
    }

    /// Why this is not a part (N < 1, I outside 0..N-1), or nil.
    package var problem: String? {
        if count < 1 { return "--part \(index)/\(count): N (the number of parts) must be at least 1" }
        guard index >= 0, index < count else {
            return "--part \(index)/\(count): I must be from 0 to \(count - 1) (parts count from 0, like SLURM_ARRAY_TASK_ID of --array=0-\(count - 1))"
        }
        return nil
    }

    /// The rows of this part within `rows` (split by blocks of `blockRows`); nil if the part is empty.
    package func range(of rows: Range<Int>, blockRows: Int) -> Range<Int>? {
        let blocks = (rows.count + blockRows - 1) / blockRows
        let first = index * blocks / count, last = (index + 1) * blocks / count
        guard first < last else { return nil }
        return (rows.lowerBound + first * blockRows)..<min(rows.lowerBound + last * blockRows, rows.upperBound)
    }

    /// The part's output file: `output.file` with ".part-I-of-N" before its extension.
    package func fileName(for output: String) -> String {
        let url = URL(fileURLWithPath: output)
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = "\(stem).part-\(index)-of-\(count)" + (ext.isEmpty ? "" : ".\(ext)")
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The part files of `count` parts of `output`, in row order.
    package static func files(for output: String, count: Int) -> [String] {
        (0..<count).map { Part(index: $0, count: count).fileName(for: output) }
    }
}
