import NeonSettings

extension JobSpec {
    /// Sections in checking order, with their allowed keys.
    static let schema: JobSections.Schema = [
        ("input", ["file", "dataset", "rows"]),
        ("model", ["file"]),
        ("output", ["file", "overwrite", "resume", "max_bytes", "compression"]),
        ("explain", ["beta", "target", "kernel_rule", "pruning", "mode", "theta", "lrp", "method", "steps", "samples", "seed"]),
        ("execution", ["block_rows", "cache_mb", "read"]),
        ("evaluate", ["methods", "repeats", "seed", "samples", "reference_rows", "sigma", "file", "block_samples"]),
    ]

    /// Required sections and their required keys, in checking order.
    static let required: JobSections.Schema = [
        ("input", ["file", "dataset"]),
        ("model", ["file"]),
        ("output", ["file"]),
    ]

    static let lrpKeys = ["conv2d", "linear", "gamma", "epsilon"]

    /// Parses job text. `jobPath` names the job file (made absolute and standardized); relative
    /// paths inside the job resolve against its folder, or against the current directory when
    /// `jobPath` is "". Messages of errors from a job without a path start with "<job>".
    public static func parse(text: String, jobPath: String) throws -> JobSpec {
        let absoluteJobPath = jobPath.isEmpty ? "" : absolutePath(jobPath, base: nil)
        let prefix = label(absoluteJobPath)
        let failure = { (message: String) in JobError(message: "\(prefix): \(message)") }

        // 1-6. Syntax, the top object, unknown and missing sections and keys (JobSections).
        let fitJob = "a fit job (it has a 'fit' section), not an explain job: run it with `neon-batch fit \(prefix)`"
        let sections = try JobSections.parse(text, schema: schema, required: required, ownKey: "model", otherKinds: [("fit", fitJob)],
                                             failure: failure)
        let input = sections["input"], output = sections["output"], explain = sections["explain"]
        let execution = sections["execution"], evaluate = sections["evaluate"]

        // 7. Values, in this order (the first failing check is the message).
        let base = absoluteJobPath.isEmpty ? nil : parentDirectory(of: absoluteJobPath)
        var spec = JobSpec(jobPath: absoluteJobPath, jobText: text,
                           inputFile: absolutePath(try input.nonEmptyString("file"), base: base),
                           inputDataset: try input.nonEmptyString("dataset"), modelFile: "", outputFile: "")
        spec.rows = try input.read("rows", mustBe: "[START, END] with integers 0 <= START < END (rows START..END-1)") { raw in
            let bound = { (v: JSONValue) -> Int? in
                guard case .number(let n) = v, n.rounded(.towardZero) == n, n >= 0, n < 9e15 else { return nil }
                return Int(n)
            }
            guard case .array(let items) = raw, items.count == 2, let start = bound(items[0]), let end = bound(items[1]),
                  start < end else { return nil }
            return start..<end
        }
        spec.modelFile = absolutePath(try sections["model"].nonEmptyString("file"), base: base)
        spec.outputFile = absolutePath(try output.nonEmptyString("file"), base: base)
        spec.overwrite = try output.bool("overwrite") ?? false
        spec.resume = try output.bool("resume") ?? false

        spec.beta = try explain.read("beta", mustBe: #""auto" or a positive finite number"#) { raw in
            switch raw {
            case .string(let text) where FieldReader.same(text, "auto"): return .auto
            case .number(let n) where n > 0 && n.isFinite: return .fixed(n)
            default: return nil
            }
        } ?? .auto
        spec.target = try explain.read("target", mustBe: #""assigned", "all" or a non-empty list of distinct cluster indices"#) { raw in
            switch raw {
            case .string(let text) where FieldReader.same(text, "assigned"): return .assigned
            case .string(let text) where FieldReader.same(text, "all"): return .all
            case .array(let items):
                let list = items.compactMap { item -> Int? in
                    guard case .number(let n) = item, n >= 0, n == n.rounded(), n < 1e9 else { return nil }
                    return Int(n)
                }
                guard !list.isEmpty, list.count == items.count, Set(list).count == list.count else { return nil }
                return .clusters(list)
            default: return nil
            }
        } ?? .assigned
        let modeName = try explain.choice("mode", of: SoftClusteringMode.Name.self) ?? .relative
        let theta = try explain.number("theta", mustBe: "a number in (0, 1)") { $0 > 0 && $0 < 1 }
        spec.mode = modeName == .absolute ? .absolute(theta: theta ?? 0.5) : .relative

        if let lrp = try explain.object("lrp") {
            // Member by member in document order: an unknown key is reported where it stands.
            try lrp.forEachKey(allowed: lrpKeys) { key in
                switch key {
                case "conv2d": spec.lrp.conv2d = try lrp.choice(key, of: LRPConv2dRuleName.self) ?? spec.lrp.conv2d
                case "linear": spec.lrp.linear = try lrp.choice(key, of: LRPLinearRuleName.self) ?? spec.lrp.linear
                default:
                    let n = try lrp.number(key, mustBe: "a number >= 0") { $0 >= 0 && $0.isFinite }
                    if key == "gamma" { spec.lrp.gamma = n ?? spec.lrp.gamma } else { spec.lrp.epsilon = n ?? spec.lrp.epsilon }
                }
            }
        }

        spec.compression = try output.int("compression", in: 0...9) ?? 0
        spec.maxOutputBytes = try output.read("max_bytes", mustBe: "a positive integer (bytes)") { raw in
            guard case .number(let n) = raw, n >= 1, n == n.rounded(), n < 9e18 else { return nil }
            return UInt64(n)
        } ?? defaultMaxOutputBytes
        spec.kernelRule = try explain.choice("kernel_rule", of: KernelRuleName.self) ?? .paper
        if let pruning = try explain.object("pruning") {
            try pruning.checkKeys(["tolerance"])
            try pruning.require(["tolerance"])
            spec.pruningTolerance = try pruning.number("tolerance", mustBe: "a number in (0, 1)") { $0 > 0 && $0 < 1 && $0.isFinite }
        }

        spec.blockRows = try execution.int("block_rows", in: 1...maxBlockRows) ?? defaultBlockRows
        spec.cacheMegabytes = try execution.int("cache_mb", in: 0...(1 << 20)) ?? defaultCacheMegabytes
        spec.readMode = try execution.choice("read", of: ReadMode.self) ?? .root

        // Explanation methods and evaluation (checked after the sections above).
        spec.method = try explain.choice("method", of: ExplanationMethodName.self, mustBe: "one of \(methodList)") ?? .neon
        spec.steps = try explain.int("steps", in: 1...maxSteps) ?? spec.steps
        spec.samples = try explain.int("samples", in: 1...maxSteps) ?? spec.samples
        spec.seed = UInt64(try explain.int("seed", in: 0...maxSeed) ?? 0)

        spec.evaluate.methods = try evaluate.read("methods", mustBe: "a non-empty array of method names") { raw -> [JSONValue]? in
            guard case .array(let items) = raw, !items.isEmpty else { return nil }
            return items
        }.map { (items: [JSONValue]) -> [ExplanationMethodName] in
            var methods: [ExplanationMethodName] = []
            for (n, item) in items.enumerated() {
                guard case .string(let name) = item, let method = ExplanationMethodName(exactly: name) else {
                    throw evaluate.mustBe("methods[\(n)]", "one of \(methodList)")
                }
                if methods.contains(method) { throw failure("evaluate.methods lists \"\(name)\" twice") }
                methods.append(method)
            }
            return methods
        }
        spec.evaluate.repeats = try evaluate.int("repeats", in: 1...maxRepeats) ?? 1
        spec.evaluate.seed = UInt64(try evaluate.int("seed", in: 0...maxSeed) ?? 0)
        spec.evaluate.referenceRows = try evaluate.int("reference_rows", in: 2...maxBlockRows)
        spec.evaluate.samples = try evaluate.int("samples", in: 1...Int(Int32.max))
        spec.evaluate.blockSamples = try evaluate.int("block_samples", in: 1...maxBlockRows) ?? Evaluate.defaultBlockSamples
        // "loo" (the leave-one-out fixed point) is nil.
        let sigma: Double?? = try evaluate.read("sigma", mustBe: #""loo" or a positive finite number"#) { raw in
            switch raw {
            case .string(let text) where FieldReader.same(text, "loo"): return .some(nil)
            case .number(let n) where n > 0 && n.isFinite: return n
            default: return nil
            }
        }
        spec.evaluate.sigma = sigma ?? nil
        spec.evaluate.file = try evaluate.string("file").map { absolutePath($0, base: base) }
        return spec
    }
}
