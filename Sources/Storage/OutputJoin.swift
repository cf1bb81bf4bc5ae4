import CHDF5
import Foundation

/// Joins the outputs of row ranges of one export (`run --part I/N`, or jobs with input.rows)
/// into one output file, as a single run over all their rows would have written it: the
/// datasets and progress records concatenated in row order, the attributes of the first part
/// with the row range, block counts, elapsed time (summed) and conservation (max) of the whole.
/// Refuses, before writing anything, parts that are not complete, were made with another input,
/// model, beta or block size, overlap, or leave rows of the expected range out.
/// One process (no MPI); memory is one chunk of rows.
public enum OutputJoin {
    /// Attributes every part must share (besides the resume key, which holds the rest).
    static let shared = ["beta", "beta_mode", "target", "rules", "model_kind", "clusters", "features",
                         "input_rows", "input_dataset", "block_rows", "software_version"]
    static let rowsKey = RelevanceOutput.keyPrefix + "input.rows"

    /// What one part says about itself.
    struct Part {
        let path: String
        let start: Int, end: Int
        let inputRows: Int
        let blocks: Int
        let element: ElementType
        let features: Int
        let attributes: [(String, AttributeValue)]

        func value(_ name: String) -> AttributeValue? { attributes.first { $0.0 == name }?.1 }
        var rows: Range<Int> { start..<end }
    }

    public struct Summary: Sendable {
        public let rows: Range<Int>
        public let inputRows: Int
        public let parts: Int
        public let features: Int
    }

    /// Joins `parts` (any order) into `output`. `expected`: the input rows the parts must cover
    /// exactly (nil: all the input rows the parts record).
    public static func join(parts paths: [String], into output: String, overwrite: Bool,
                            overwriteHint: String = "use --overwrite to replace it",
                            expected: Range<Int>? = nil) throws -> Summary {
        guard !paths.isEmpty else { throw StorageError("\(output): no part files to join") }
        var seen = Set<String>()
        for p in paths where !seen.insert(URL(fileURLWithPath: p).resolvingSymlinksInPath().path).inserted {
            throw StorageError("\(p): part file given twice")
        }
        let parts = try paths.map(read).sorted { $0.start < $1.start }
        let first = parts[0]
        for p in parts.dropFirst() {
            for name in shared + first.attributes.map(\.0).filter({ $0.hasPrefix(RelevanceOutput.keyPrefix) && $0 != rowsKey }) {
                let a = first.value(name), b = p.value(name)
                if a != b {
                    throw StorageError("\(p.path): \(name) differs from \(first.path) (\(describe(b)) vs \(describe(a))); the parts are not of one export")
                }
            }
            if p.element != first.element {
                throw StorageError("\(p.path): dataset 'relevance' is \(p.element.rawValue), \(first.path) has \(first.element.rawValue)")
            }
        }
        let want = expected ?? 0..<first.inputRows
        var next = want.lowerBound
        var previous: Part?
        for p in parts {
            if let q = previous, p.start < q.end {
                throw StorageError("\(p.path): rows \(p.start)..<\(p.end) overlap rows \(q.start)..<\(q.end) of \(q.path)")
            }
            if p.start < want.lowerBound || p.end > want.upperBound {
                throw StorageError("\(p.path): rows \(p.start)..<\(p.end) are outside rows \(want.lowerBound)..<\(want.upperBound) of the export")
            }
            if p.start > next {
                throw StorageError("\(output): rows \(next)..<\(p.start) are in no part (a part is missing)")
            }
            next = p.end
            previous = p
        }
        if next < want.upperBound {
            throw StorageError("\(output): rows \(next)..<\(want.upperBound) are in no part (a part is missing)")
        }
        if paths.contains(where: { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path
            == URL(fileURLWithPath: output).resolvingSymlinksInPath().path }) {
            throw StorageError("\(output): output file is one of the parts")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir) {
            if isDir.boolValue { throw StorageError("\(output): output file is a directory") }
            if !overwrite { throw StorageError("\(output): output file exists; \(overwriteHint)") }
        }
        do {
            try write(parts, to: output, rows: want)
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        }
        return Summary(rows: want, inputRows: first.inputRows, parts: parts.count, features: first.features)
    }

    private static func describe(_ v: AttributeValue?) -> String {
        switch v {
        case .string(let s)?: return s
        case .double(let d)?: return "\(d)"
        case .int(let i)?: return "\(i)"
        case nil: return "none"
        }
    }

    /// Opens a part and checks it is a complete neon-batch output of a row range.
    static func read(_ path: String) throws -> Part {
        let f = try H5ReadFile(path: path, role: "part")
        guard let status = try f.rootStringAttribute("status") else {
            throw StorageError("\(path): no 'status' attribute (not a neon-batch output)")
        }
        guard status == "complete" else {
            throw StorageError("\(path): part is not complete (status '\(status)'); finish it with neon-batch run --resume first")
        }
        let attributes = rootAttributes(f)
        func int(_ name: String) throws -> Int {
            guard case .int(let v)? = attributes.first(where: { $0.0 == name })?.1 else {
                throw StorageError("\(path): no integer attribute '\(name)' (not a neon-batch output with row ranges)")
            }
            return v
        }
        let start = try int("row_start"), end = try int("row_end"), inputRows = try int("input_rows")
        let blocks = try int("blocks")
        let shape = datasetShape(f, RelevanceOutput.relevanceDataset)
        if let dims = shape?.dims, dims.count != 2 {
            throw StorageError("\(path): dataset 'relevance' has \(dims.count) dimensions; join handles (rows x features) outputs of one target only, not spatial or per-target outputs")
        }
        guard let dims = shape?.dims, dims.count == 2, dims[0] == end - start, let element = shape?.element else {
            throw StorageError("\(path): dataset 'relevance' is not \(end - start) rows (row_start \(start) to row_end \(end))")
        }
        for (name, len) in [(RelevanceOutput.assignmentDataset, end - start), (RelevanceOutput.logitDataset, end - start),
                            (RelevanceOutput.blockDoneDataset, blocks), (RelevanceOutput.blockConservationDataset, blocks)] {
            guard datasetShape(f, name)?.dims == [len] else {
                throw StorageError("\(path): dataset '\(name)' is missing or not of length \(len)")
            }
        }
        return Part(path: path, start: start, end: end, inputRows: inputRows, blocks: blocks, element: element,
                    features: dims[1], attributes: attributes)
    }

    /// Writes the joined file: status "incomplete" first, "complete" last.
    private static func write(_ parts: [Part], to output: String, rows: Range<Int>) throws {
        let first = parts[0]
        let n = rows.count, d = first.features
        let blocks = parts.reduce(0) { $0 + $1.blocks }
        let out = try H5WriteFile(creating: output, communicator: nil)
        try out.setAttribute("status", "incomplete")
        try out.createDataset(RelevanceOutput.relevanceDataset, element: first.element, rows: n, columns: d)
        try out.createDataset(RelevanceOutput.assignmentDataset, element: .int64, rows: n, columns: 0)
        try out.createDataset(RelevanceOutput.logitDataset, element: .float64, rows: n, columns: 0)
        try out.createDataset(RelevanceOutput.blockDoneDataset, element: .int64, rows: blocks, columns: 0)
        try out.createDataset(RelevanceOutput.blockConservationDataset, element: .float64, rows: blocks, columns: 0)
        var blockOffset = 0
        for p in parts {
            let f = try H5ReadFile(path: p.path, role: "part")
            let at = p.start - rows.lowerBound
            try copy(f, RelevanceOutput.relevanceDataset, p.element, columns: d, rows: p.end - p.start, into: out, at: at)
            try copy(f, RelevanceOutput.assignmentDataset, .int64, columns: 1, rows: p.end - p.start, into: out, at: at)
            try copy(f, RelevanceOutput.logitDataset, .float64, columns: 1, rows: p.end - p.start, into: out, at: at)
            try copy(f, RelevanceOutput.blockDoneDataset, .int64, columns: 1, rows: p.blocks, into: out, at: blockOffset)
            try copy(f, RelevanceOutput.blockConservationDataset, .float64, columns: 1, rows: p.blocks, into: out,
                     at: blockOffset)
            blockOffset += p.blocks
        }
        func number(_ p: Part, _ name: String) -> Double {
            switch p.value(name) {
            case .double(let v)?: return v
            case .int(let v)?: return Double(v)
            default: return 0
            }
        }
        var whole: [String: AttributeValue] = [
            "rows": .int(n), "row_start": .int(rows.lowerBound), "row_end": .int(rows.upperBound),
            rowsKey: .string("[\(rows.lowerBound), \(rows.upperBound)]"),
            "blocks": .int(blocks), "blocks_done": .int(blocks),
            "ranks": .int(parts.map { Int(number($0, "ranks")) }.max()!),
            "elapsed_seconds": .double(parts.reduce(0) { $0 + number($1, "elapsed_seconds") }),
            "conservation_max_abs_error": .double(parts.map { number($0, "conservation_max_abs_error") }.max()!),
        ]
        // parts may have run on different machines: every BLAS, kernel and CPU that computed rows
        for name in ["blas", "blas_kernel", "cpu"] {
            var seen: [String] = []
            for p in parts { if case .string(let v)? = p.value(name), !seen.contains(v) { seen.append(v) } }
            if !seen.isEmpty { whole[name] = .string(seen.joined(separator: "; ")) }
        }
        if first.value("pruning_tolerance") != nil {
            // explain.pruning: fractions of rows x M paths (row-weighted means), the bound's maximum
            for name in ["pruning_kept_fraction", "pruning_kept_fraction_relevance"] {
                whole[name] = .double(parts.reduce(0) { $0 + number($1, name) * Double($1.end - $1.start) } / Double(n))
            }
            whole["pruning_error_bound"] = .double(parts.map { number($0, "pruning_error_bound") }.max()!)
            whole["pruning_dense_rows"] = .int(parts.reduce(0) { $0 + Int(number($1, "pruning_dense_rows")) })
        }
        for (name, value) in first.attributes where name != "status" {
            switch whole[name] ?? value {
            case .string(let s): try out.setAttribute(name, s)
            case .double(let v): try out.setAttribute(name, v)
            case .int(let v): try out.setAttribute(name, v)
            }
        }
        try out.flush()
        try out.setAttribute("status", "complete")
        try out.close()
    }

    /// Copies `rows` rows of a dataset of a part into `out` from row `at`, in chunks.
    private static func copy(_ f: H5ReadFile, _ name: String, _ element: ElementType, columns: Int, rows: Int,
                             into out: H5WriteFile, at: Int) throws {
        guard rows > 0 else { return }
        let ds = H5Handle(dataset: H5Dopen2(f.id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(f.path): cannot open dataset '\(name)'") }
        let chunk = max(1, min(rows, (1 << 24) / (columns * element.byteCount)))
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk * columns * element.byteCount, alignment: 16)
        defer { buffer.deallocate() }
        let twoD = name == RelevanceOutput.relevanceDataset
        var r = 0
        while r < rows {
            let c = min(chunk, rows - r)
            let fspace = H5Handle(dataspace: H5Dget_space(ds.id))
            var off: [hsize_t] = twoD ? [hsize_t(r), 0] : [hsize_t(r)]
            var cnt: [hsize_t] = twoD ? [hsize_t(c), hsize_t(columns)] : [hsize_t(c)]
            H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, &off, nil, &cnt, nil)
            let mspace = H5Handle(dataspace: H5Screate_simple(Int32(cnt.count), &cnt, nil))
            guard H5Dread(ds.id, element.nativeType, mspace.id, fspace.id, neon_h5p_default(), buffer) >= 0 else {
                throw StorageError("\(f.path): cannot read rows \(r)..<\(r + c) of dataset '\(name)'")
            }
            try out.write(name, rows: at + r, count: c, from: buffer)
            r += c
        }
    }

    /// The shape and float element type (if float) of a dataset, or nil if absent.
    private static func datasetShape(_ f: H5ReadFile, _ name: String) -> (dims: [Int], element: ElementType?)? {
        guard H5Lexists(f.id, name, neon_h5p_default()) > 0 else { return nil }
        let ds = H5Handle(dataset: H5Dopen2(f.id, name, neon_h5p_default()))
        guard ds.isValid else { return nil }
        let space = H5Handle(dataspace: H5Dget_space(ds.id))
        var dims = [hsize_t](repeating: 0, count: 8)
        let rank = H5Sget_simple_extent_dims(space.id, &dims, nil)
        guard rank >= 0 else { return nil }
        let type = H5Handle(datatype: H5Dget_type(ds.id))
        return (dims.prefix(Int(rank)).map { Int($0) }, describeType(type.id).element)
    }

    /// The root attributes, in name order: strings, integers (int64) and floats (float64).
    private static func rootAttributes(_ f: H5ReadFile) -> [(String, AttributeValue)] {
        var info = H5O_info_t()
        guard H5Oget_info2(f.id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { return [] }
        var out: [(String, AttributeValue)] = []
        for i in 0..<info.num_attrs {
            let len = H5Aget_name_by_idx(f.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, neon_h5p_default())
            guard len >= 0 else { continue }
            var buf = [CChar](repeating: 0, count: len + 1)
            H5Aget_name_by_idx(f.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, len + 1, neon_h5p_default())
            let name = String(cString: buf)
            let attr = H5Handle(attribute: H5Aopen(f.id, name, neon_h5p_default()))
            guard attr.isValid else { continue }
            let type = H5Handle(datatype: H5Aget_type(attr.id))
            let cls = H5Tget_class(type.id)
            type.close()
            attr.close()
            switch cls {
            case H5T_STRING: if let s = try? f.rootStringAttribute(name) { out.append((name, .string(s))) }
            case H5T_INTEGER:
                if let v = f.rootNumberAttribute(name) { out.append((name, .int(Int(v)))) }
            case H5T_FLOAT: if let v = f.rootNumberAttribute(name) { out.append((name, .double(v))) }
            default: continue
            }
        }
        return out
    }
}
