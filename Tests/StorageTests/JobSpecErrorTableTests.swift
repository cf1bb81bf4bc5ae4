import Storage
import XCTest

/// Every error an explain job (with its `evaluate` section) or a fit job can give, as one table of
/// (job, exact message) rows. The messages are the parser's interface: tests and users grep them.
final class JobSpecErrorTableTests: XCTestCase {
    static let path = "/jobs/job.json"

    enum Kind { case explain, fit }

    struct Row {
        let kind: Kind
        let text: String
        /// The message after "<job path>: ".
        let message: String
        let line: UInt
    }

    static let explainDefaults: KeyValuePairs<String, String> = [
        "input": #"{"file": "d.h5", "dataset": "x"}"#, "model": #"{"file": "m.h5"}"#, "output": #"{"file": "o.h5"}"#,
    ]
    static let fitDefaults: KeyValuePairs<String, String> = [
        "input": #"{"file": "d.h5", "dataset": "x"}"#, "output": #"{"file": "m.h5"}"#,
        "fit": #"{"algorithm": "kmeans", "clusters": 3}"#,
    ]

    /// A valid job of `kind` whose sections are replaced (nil: removed) or extended by `sections`, in order.
    static func job(_ kind: Kind, _ sections: KeyValuePairs<String, String?>) -> String {
        let defaults = kind == .explain ? explainDefaults : fitDefaults
        var members: [String] = []
        for (key, value) in defaults {
            if let given = sections.first(where: { $0.key == key }) {
                if let text = given.value { members.append("\"\(key)\": \(text)") }
            } else {
                members.append("\"\(key)\": \(value)")
            }
        }
        for (key, value) in sections where !defaults.contains(where: { $0.key == key }) {
            if let value { members.append("\"\(key)\": \(value)") }
        }
        return "{" + members.joined(separator: ", ") + "}"
    }

    static func x(_ sections: KeyValuePairs<String, String?>, _ message: String, line: UInt = #line) -> Row {
        Row(kind: .explain, text: job(.explain, sections), message: message, line: line)
    }
    /// An explain job's `explain` section.
    static func e(_ explain: String, _ message: String, line: UInt = #line) -> Row {
        x(["explain": explain], message, line: line)
    }
    /// An explain job's `evaluate` section.
    static func v(_ evaluate: String, _ message: String, line: UInt = #line) -> Row {
        x(["evaluate": evaluate], message, line: line)
    }
    static func f(_ sections: KeyValuePairs<String, String?>, _ message: String, line: UInt = #line) -> Row {
        Row(kind: .fit, text: job(.fit, sections), message: message, line: line)
    }
    /// A fit job's `fit` section.
    static func g(_ fit: String, _ message: String, line: UInt = #line) -> Row {
        f(["fit": fit], message, line: line)
    }
    static func raw(_ kind: Kind, _ text: String, _ message: String, line: UInt = #line) -> Row {
        Row(kind: kind, text: text, message: message, line: line)
    }

    static let methods = #""neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca""#
    static let rowsMessage = "input.rows must be [START, END] with integers 0 <= START < END (rows START..END-1)"
    static let targetMessage = #"explain.target must be "assigned", "all" or a non-empty list of distinct cluster indices"#
    static let initMessage = #"fit.init must be "kmeans" or {"file": ..., "dataset": ...} (labels)"#
    static let initStrings = "fit.init.file and fit.init.dataset must be non-empty strings"

    static let rows: [Row] = [
        // Syntax and the top object (both kinds).
        raw(.explain, "", "not valid JSON (line 1, column 1: unexpected end of input)"),
        raw(.explain, #"{"input": {}, "input": {}}"#, "not valid JSON (line 1, column 15: duplicate key 'input')"),
        raw(.explain, "{\"input\": {},}", "not valid JSON (line 1, column 13: trailing comma)"),
        raw(.fit, "{\n// c\n}", "not valid JSON (line 2, column 1: comments are not allowed)"),
        raw(.explain, "[]", "the job must be a JSON object"),
        raw(.fit, "42", "the job must be a JSON object"),
        // Another kind of job file.
        raw(.explain, #"{"fit": {}, "bogus": 1}"#,
            "a fit job (it has a 'fit' section), not an explain job: run it with `neon-batch fit \(path)`"),
        raw(.fit, #"{"model": {}, "evaluate": {}}"#,
            "an evaluation job (it has an 'evaluate' section), not a fit job: run it with `neon-batch evaluate \(path)`"),
        raw(.fit, #"{"input": 1, "model": {}}"#,
            "an explain job (it has a 'model' section), not a fit job: run it with `neon-batch run \(path)`"),
        raw(.fit, #"{"explain": {}}"#,
            "an explain job (it has an 'explain' section), not a fit job: run it with `neon-batch run \(path)`"),
        // Unknown top-level keys (document order, before anything else), with did-you-mean.
        raw(.explain, #"{"foo": 1, "input": 3, "bar": 2}"#, "unknown key 'foo'"),
        raw(.explain, #"{"Input": {}}"#, "unknown key 'Input'; did you mean 'input'?"),
        raw(.explain, #"{"a\nb": 1}"#, #"unknown key 'a\nb'"#),
        f(["explain": "{}"], "unknown key 'explain'"),
        f(["fitt": "{}"], "unknown key 'fitt'; did you mean 'fit'?"),
        // Sections must be objects (in section order, before unknown keys inside sections).
        x(["input": "[]"], "'input' must be an object"),
        x(["model": #""m.h5""#], "'model' must be an object"),
        x(["output": "null"], "'output' must be an object"),
        e(#""auto""#, "'explain' must be an object"),
        x(["execution": "8192"], "'execution' must be an object"),
        v("[]", "'evaluate' must be an object"),
        x(["input": #"{"file": "a", "dataset": "b", "x": 1}"#, "execution": "1"], "'execution' must be an object"),
        f(["fit": "[]"], "'fit' must be an object"),
        f(["execution": "1"], "'execution' must be an object"),
        // Unknown keys in sections (section order, before missing keys and values).
        x(["input": #"{"file": "a", "dataset": "b", "path": "c"}"#], "unknown key 'input.path'"),
        x(["model": #"{"file": "a", "dataset": "b"}"#], "unknown key 'model.dataset'"),
        x(["output": #"{"file": "o", "z": 1}"#, "execution": #"{"y": 1}"#], "unknown key 'output.z'"),
        e(#"{"bta": 1}"#, "unknown key 'explain.bta'; did you mean 'beta'?"),
        e(#"{"modes": 1}"#, "unknown key 'explain.modes'; did you mean 'mode'?"),
        x(["execution": #"{"rows_per_block": 10}"#], "unknown key 'execution.rows_per_block'"),
        x(["execution": #"{"blok_rows": 10}"#], "unknown key 'execution.blok_rows'; did you mean 'block_rows'?"),
        v(#"{"method": ["neon"]}"#, "unknown key 'evaluate.method'; did you mean 'methods'?"),
        x(["input": #"{"file": 1, "x": 2}"#, "model": nil], "unknown key 'input.x'"),
        g(#"{"algorithm": "kmeans", "clusters": 8, "clusterz": 1}"#, "unknown key 'fit.clusterz'; did you mean 'clusters'?"),
        f(["execution": #"{"cache_mb": 1}"#], "unknown key 'execution.cache_mb'"),
        f(["output": #"{"file": "m.h5", "resume": true}"#], "unknown key 'output.resume'"),
        // Missing sections and keys (after unknown keys, before values).
        raw(.explain, "{}", "missing key 'input'"),
        x(["input": "{}"], "missing key 'input.file'"),
        x(["input": #"{"file": 1}"#], "missing key 'input.dataset'"),
        x(["model": nil, "explain": #"{"beta": 0}"#], "missing key 'model'"),
        x(["model": "{}"], "missing key 'model.file'"),
        x(["output": nil], "missing key 'output'"),
        x(["output": #"{"overwrite": true}"#], "missing key 'output.file'"),
        f(["output": nil], "missing key 'output'"),
        f(["fit": nil], "missing key 'fit'"),
        g(#"{"clusters": 3}"#, "missing key 'fit.algorithm'"),
        g(#"{"algorithm": "kmeans"}"#, "missing key 'fit.clusters'"),
        f(["input": #"{"dataset": "x"}"#], "missing key 'input.file'"),

        // Explain job values, in checking order.
        x(["input": #"{"file": "", "dataset": "x"}"#], "input.file must be a non-empty string"),
        x(["input": #"{"file": "f", "dataset": 1}"#], "input.dataset must be a non-empty string"),
        x(["input": #"{"file": "f", "dataset": "x", "rows": [5, 5]}"#], rowsMessage),
        x(["input": #"{"file": "f", "dataset": "x", "rows": [-1, 5]}"#], rowsMessage),
        x(["input": #"{"file": "f", "dataset": "x", "rows": [0.5, 5]}"#], rowsMessage),
        x(["input": #"{"file": "f", "dataset": "x", "rows": [1, 2, 3]}"#], rowsMessage),
        x(["input": #"{"file": "f", "dataset": "x", "rows": "0:5"}"#], rowsMessage),
        x(["input": #"{"file": "f", "dataset": "x", "rows": [0, 1e300]}"#], rowsMessage),
        x(["model": #"{"file": null}"#], "model.file must be a non-empty string"),
        x(["output": #"{"file": ["o"]}"#], "output.file must be a non-empty string"),
        x(["output": #"{"file": "o", "overwrite": 1}"#], "output.overwrite must be true or false"),
        x(["output": #"{"file": "o", "resume": "yes"}"#], "output.resume must be true or false"),
        e(#"{"beta": 0}"#, #"explain.beta must be "auto" or a positive finite number"#),
        e(#"{"beta": "Auto"}"#, #"explain.beta must be "auto" or a positive finite number"#),
        e(#"{"beta": null}"#, #"explain.beta must be "auto" or a positive finite number"#),
        e(#"{"target": "ALL"}"#, targetMessage),
        e(#"{"target": []}"#, targetMessage),
        e(#"{"target": [1, 1]}"#, targetMessage),
        e(#"{"target": [-1]}"#, targetMessage),
        e(#"{"target": [1.5]}"#, targetMessage),
        e(#"{"target": [1e9]}"#, targetMessage),
        e(#"{"target": {}}"#, targetMessage),
        e(#"{"mode": "Absolute"}"#, #"explain.mode must be "relative" or "absolute""#),
        e(#"{"mode": 1}"#, #"explain.mode must be "relative" or "absolute""#),
        e(#"{"mode": "absolute", "theta": 1}"#, "explain.theta must be a number in (0, 1)"),
        e(#"{"theta": "0.5"}"#, "explain.theta must be a number in (0, 1)"),
        e(#"{"lrp": 1}"#, "'explain.lrp' must be an object"),
        e(#"{"lrp": {"conv": "gamma"}}"#, "unknown key 'explain.lrp.conv'; did you mean 'conv2d'?"),
        e(#"{"lrp": {"conv2d": "alpha-beta"}}"#, #"explain.lrp.conv2d must be "gamma" or "zero""#),
        e(#"{"lrp": {"conv2d": "epsilon"}}"#, #"explain.lrp.conv2d must be "gamma" or "zero""#),
        e(#"{"lrp": {"linear": "z+"}}"#, #"explain.lrp.linear must be "epsilon", "gamma" or "zero""#),
        e(#"{"lrp": {"linear": 0}}"#, #"explain.lrp.linear must be "epsilon", "gamma" or "zero""#),
        e(#"{"lrp": {"gamma": -0.1}}"#, "explain.lrp.gamma must be a number >= 0"),
        e(#"{"lrp": {"epsilon": "1e-6"}}"#, "explain.lrp.epsilon must be a number >= 0"),
        // explain.lrp is checked member by member in document order.
        e(#"{"lrp": {"linear": "z+", "conv2d": "x"}}"#, #"explain.lrp.linear must be "epsilon", "gamma" or "zero""#),
        e(#"{"lrp": {"conv2d": "x", "foo": 1}}"#, #"explain.lrp.conv2d must be "gamma" or "zero""#),
        e(#"{"lrp": {"foo": 1, "conv2d": "x"}}"#, "unknown key 'explain.lrp.foo'"),
        x(["output": #"{"file": "o", "compression": 10}"#], "output.compression must be an integer from 0 to 9"),
        x(["output": #"{"file": "o", "compression": 1.5}"#], "output.compression must be an integer from 0 to 9"),
        x(["output": #"{"file": "o", "max_bytes": 0}"#], "output.max_bytes must be a positive integer (bytes)"),
        x(["output": #"{"file": "o", "max_bytes": 1e19}"#], "output.max_bytes must be a positive integer (bytes)"),
        e(#"{"kernel_rule": "Paper"}"#, #"explain.kernel_rule must be "paper" or "conservative""#),
        e(#"{"kernel_rule": null}"#, #"explain.kernel_rule must be "paper" or "conservative""#),
        e(#"{"pruning": 1e-4}"#, "'explain.pruning' must be an object"),
        e(#"{"pruning": {}}"#, "missing key 'explain.pruning.tolerance'"),
        e(#"{"pruning": {"tolerance": 1e-4, "eps": 1e-4}}"#, "unknown key 'explain.pruning.eps'"),
        e(#"{"pruning": {"Tolerance": 1e-4}}"#, "unknown key 'explain.pruning.Tolerance'; did you mean 'tolerance'?"),
        e(#"{"pruning": {"tolerance": 1}}"#, "explain.pruning.tolerance must be a number in (0, 1)"),
        e(#"{"pruning": {"tolerance": "1e-4"}}"#, "explain.pruning.tolerance must be a number in (0, 1)"),
        x(["execution": #"{"block_rows": 0}"#], "execution.block_rows must be an integer from 1 to 1048576"),
        x(["execution": #"{"block_rows": 1048577}"#], "execution.block_rows must be an integer from 1 to 1048576"),
        x(["execution": #"{"block_rows": "8192"}"#], "execution.block_rows must be an integer from 1 to 1048576"),
        x(["execution": #"{"cache_mb": -1}"#], "execution.cache_mb must be an integer from 0 to 1048576"),
        x(["execution": #"{"cache_mb": 0.5}"#], "execution.cache_mb must be an integer from 0 to 1048576"),
        x(["execution": #"{"read": "Parallel"}"#], #"execution.read must be "root", "parallel" or "auto""#),
        x(["execution": #"{"read": ["root"]}"#], #"execution.read must be "root", "parallel" or "auto""#),
        e(#"{"method": "NEON"}"#, "explain.method must be one of \(methods)"),
        e(#"{"method": ""}"#, "explain.method must be one of \(methods)"),
        e(#"{"method": ["neon"]}"#, "explain.method must be one of \(methods)"),
        e(#"{"steps": 0}"#, "explain.steps must be an integer from 1 to 100000"),
        e(#"{"steps": 2.5}"#, "explain.steps must be an integer from 1 to 100000"),
        e(#"{"samples": 100001}"#, "explain.samples must be an integer from 1 to 100000"),
        e(#"{"seed": -1}"#, "explain.seed must be an integer from 0 to 9007199254740992"),
        e(#"{"seed": 9007199254740994}"#, "explain.seed must be an integer from 0 to 9007199254740992"),
        v(#"{"methods": []}"#, "evaluate.methods must be a non-empty array of method names"),
        v(#"{"methods": "neon"}"#, "evaluate.methods must be a non-empty array of method names"),
        v(#"{"methods": ["neon", "lime"]}"#, "evaluate.methods[1] must be one of \(methods)"),
        v(#"{"methods": [1]}"#, "evaluate.methods[0] must be one of \(methods)"),
        v(#"{"methods": ["x2", "neon", "x2"]}"#, #"evaluate.methods lists "x2" twice"#),
        v(#"{"methods": ["x2", "x2", "lime"]}"#, #"evaluate.methods lists "x2" twice"#),
        v(#"{"repeats": 0}"#, "evaluate.repeats must be an integer from 1 to 10000"),
        v(#"{"repeats": "3"}"#, "evaluate.repeats must be an integer from 1 to 10000"),
        v(#"{"seed": 1e17}"#, "evaluate.seed must be an integer from 0 to 9007199254740992"),
        v(#"{"reference_rows": 1}"#, "evaluate.reference_rows must be an integer from 2 to 1048576"),
        v(#"{"samples": 2147483648}"#, "evaluate.samples must be an integer from 1 to 2147483647"),
        v(#"{"block_samples": 0}"#, "evaluate.block_samples must be an integer from 1 to 1048576"),
        v(#"{"sigma": "LOO"}"#, #"evaluate.sigma must be "loo" or a positive finite number"#),
        v(#"{"sigma": 0}"#, #"evaluate.sigma must be "loo" or a positive finite number"#),
        v(#"{"file": ""}"#, "evaluate.file must be a non-empty string"),
        v(#"{"file": null}"#, "evaluate.file must be a non-empty string"),
        // The first failing check wins: the order above (which is not the order of the sections).
        x(["input": #"{"file": "", "dataset": ""}"#, "model": #"{"file": ""}"#], "input.file must be a non-empty string"),
        x(["output": #"{"file": "o", "resume": 1, "overwrite": 1}"#], "output.overwrite must be true or false"),
        x(["output": #"{"file": "o", "compression": 10}"#, "explain": #"{"lrp": {"gamma": -1}, "target": 1}"#], targetMessage),
        x(["output": #"{"file": "o", "compression": 10}"#, "explain": #"{"lrp": {"gamma": -1}}"#], "explain.lrp.gamma must be a number >= 0"),
        x(["output": #"{"file": "o", "compression": 10, "max_bytes": 0}"#, "explain": #"{"kernel_rule": 1}"#],
          "output.compression must be an integer from 0 to 9"),
        x(["output": #"{"file": "o", "max_bytes": 0}"#, "explain": #"{"kernel_rule": 1}"#],
          "output.max_bytes must be a positive integer (bytes)"),
        x(["explain": #"{"pruning": {"tolerance": 2}, "method": "bad"}"#, "execution": #"{"block_rows": 0}"#],
          "explain.pruning.tolerance must be a number in (0, 1)"),
        x(["explain": #"{"method": "bad"}"#, "execution": #"{"read": "x", "cache_mb": -1}"#],
          "execution.cache_mb must be an integer from 0 to 1048576"),
        x(["explain": #"{"method": "bad"}"#, "execution": #"{"read": "x"}"#], #"execution.read must be "root", "parallel" or "auto""#),
        x(["explain": #"{"method": "bad", "seed": -1}"#, "evaluate": #"{"methods": []}"#], "explain.method must be one of \(methods)"),
        x(["explain": #"{"seed": -1}"#, "evaluate": #"{"methods": []}"#], "explain.seed must be an integer from 0 to 9007199254740992"),
        v(#"{"file": "", "sigma": 0, "block_samples": 0, "samples": 0}"#, "evaluate.samples must be an integer from 1 to 2147483647"),
        v(#"{"file": "", "sigma": 0}"#, #"evaluate.sigma must be "loo" or a positive finite number"#),

        // Fit job values, in checking order.
        f(["input": #"{"file": "", "dataset": "x"}"#], "input.file must be a non-empty string"),
        f(["input": #"{"file": "f", "dataset": ""}"#], "input.dataset must be a non-empty string"),
        f(["output": #"{"file": 1}"#], "output.file must be a non-empty string"),
        f(["output": #"{"file": "m", "overwrite": "no"}"#], "output.overwrite must be true or false"),
        g(#"{"algorithm": "dbscan", "clusters": 3}"#, #"fit.algorithm must be "kmeans" or "kernel_kmeans""#),
        g(#"{"algorithm": "KMeans", "clusters": 3}"#, #"fit.algorithm must be "kmeans" or "kernel_kmeans""#),
        g(#"{"algorithm": "kmeans", "clusters": 3, "noise": 0}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans", "noise": 0}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans", "support_vectors": 0}"#,
          "fit.support_vectors applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans"}"#, "fit.init applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "elkan"}"#, #"fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
        g(#"{"algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "Lloyd"}"#, #"fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
        g(#"{"algorithm": "kmeans", "clusters": 1}"#, "fit.clusters must be an integer from 2 to 1048576"),
        g(#"{"algorithm": "kmeans", "clusters": 2.5}"#, "fit.clusters must be an integer from 2 to 1048576"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "seed": -1}"#, "fit.seed must be an integer from 0 to 9007199254740992"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "n_init": 0}"#, "fit.n_init must be an integer from 1 to 1000"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "max_iter": 1000001}"#, "fit.max_iter must be an integer from 1 to 1000000"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "tol": -1}"#, "fit.tol must be a finite number >= 0"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "tol": "0"}"#, "fit.tol must be a finite number >= 0"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init_sample": 0}"#, "fit.init_sample must be an integer from 1 to 16777216"),
        g(#"{"algorithm": "kmeans", "clusters": 30, "init_sample": 20}"#, "fit.init_sample 20 is smaller than fit.clusters 30"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "standardize": 1}"#, "fit.standardize must be true or false"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "support_vectors": 0}"#, "fit.support_vectors must be an integer from 1 to 65536"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "noise": -1}"#, "fit.noise must be a finite number >= 0"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": "random"}"#, initMessage),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": ["kmeans"]}"#, initMessage),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "l.h5", "dataset": "y", "x": 1}}"#, "unknown key 'fit.init.x'"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": {"fle": "l.h5", "dataset": "y"}}"#,
          "unknown key 'fit.init.fle'; did you mean 'file'?"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "l.h5"}}"#, initStrings),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "", "dataset": "y"}}"#, initStrings),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "init": {"file": "l", "dataset": 1}}"#, initStrings),
        f(["execution": #"{"block_rows": 0}"#], "execution.block_rows must be an integer from 1 to 1048576"),
        // The first failing check wins.
        g(#"{"algorithm": "kmeans", "clusters": 1, "noise": 0, "kmeans_algorithm": "x"}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 1, "kmeans_algorithm": "x"}"#, #"fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
        g(#"{"algorithm": "kmeans", "clusters": 1, "seed": -1}"#, "fit.clusters must be an integer from 2 to 1048576"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "tol": -1, "max_iter": 0}"#, "fit.max_iter must be an integer from 1 to 1000000"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "tol": -1, "init_sample": 0}"#, "fit.tol must be a finite number >= 0"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "standardize": 1, "noise": -1, "support_vectors": 0}"#,
          "fit.standardize must be true or false"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "noise": -1, "support_vectors": 0}"#,
          "fit.support_vectors must be an integer from 1 to 65536"),
        f(["output": #"{"file": "m", "overwrite": 1}"#, "fit": #"{"algorithm": "x", "clusters": 3}"#],
          "output.overwrite must be true or false"),
        f(["fit": #"{"algorithm": "kernel_kmeans", "clusters": 3, "init": "x"}"#, "execution": #"{"block_rows": 0}"#], initMessage),
    ]

    func parse(_ row: Row, jobPath: String = JobSpecErrorTableTests.path) throws {
        switch row.kind {
        case .explain: _ = try JobSpec.parse(text: row.text, jobPath: jobPath)
        case .fit: _ = try FitSpec.parse(text: row.text, jobPath: jobPath)
        }
    }

    func testEveryRowFailsWithItsExactMessage() {
        for row in Self.rows {
            do {
                try parse(row)
                XCTFail("accepted \(row.text)", line: row.line)
            } catch let error as JobError {
                XCTAssertEqual(error.message, "\(Self.path): \(row.message)", row.text, line: row.line)
            } catch {
                XCTFail("\(error) for \(row.text)", line: row.line)
            }
        }
    }

    /// The table's jobs differ from a valid job only where the row says: the defaults are valid.
    func testTheDefaultsParse() throws {
        XCTAssertNoThrow(try JobSpec.parse(text: Self.job(.explain, [:]), jobPath: Self.path))
        XCTAssertNoThrow(try FitSpec.parse(text: Self.job(.fit, [:]), jobPath: Self.path))
        XCTAssertEqual(Self.job(.explain, ["model": nil, "explain": "{}"]),
                       #"{"input": {"file": "d.h5", "dataset": "x"}, "output": {"file": "o.h5"}, "explain": {}}"#)
    }

    /// Without a path, messages start with "<job>".
    func testMessagesWithoutAPath() {
        for row in Self.rows.prefix(12) {
            XCTAssertThrowsError(try parse(row, jobPath: ""), line: row.line) {
                let expected = "<job>: " + row.message.replacingOccurrences(of: Self.path, with: "<job>")
                XCTAssertEqual(($0 as? JobError)?.message, expected, line: row.line)
            }
        }
    }
}
