import NeonSettings
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

    /// One row per bad value, all with the same message.
    static func each(_ bads: [String], _ row: (String) -> Row) -> [Row] { bads.map(row) }

    static let methods = #""neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca""#
    static let rowsMessage = "input.rows must be [START, END] with integers 0 <= START < END (rows START..END-1)"
    static let targetMessage = #"explain.target must be "assigned", "all" or a non-empty list of distinct cluster indices"#
    static let initMessage = #"fit.init must be "kmeans" or {"file": ..., "dataset": ...} (labels)"#
    static let initStrings = "fit.init.file and fit.init.dataset must be non-empty strings"

    static let rows: [Row] = fixedRows + loopedRows

    static let fixedRows: [Row] = [
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
        raw(.explain, #"{"input": 3, "bar": 2, "foo": 1}"#, "unknown key 'bar'"),
        raw(.explain, #"{"a\nb": 1}"#, #"unknown key 'a\nb'"#),
        raw(.explain, "\"job\"", "the job must be a JSON object"),
        raw(.explain, "null", "the job must be a JSON object"),
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
        raw(.explain, #"{"execution": 1, "input": 2}"#, "'input' must be an object"),
        f(["fit": "[]"], "'fit' must be an object"),
        f(["execution": "1"], "'execution' must be an object"),
        // Unknown keys in sections (section order, before missing keys and values).
        x(["input": #"{"file": "a", "dataset": "b", "path": "c"}"#], "unknown key 'input.path'"),
        x(["model": #"{"file": "a", "dataset": "b"}"#], "unknown key 'model.dataset'"),
        x(["output": #"{"file": "o", "z": 1}"#, "execution": #"{"y": 1}"#], "unknown key 'output.z'"),
        x(["output": #"{"file": "a", "overwrite": true, "x": 0}"#], "unknown key 'output.x'"),
        e(#"{"beta": "auto", "foo": 1, "bar": 2}"#, "unknown key 'explain.foo'"),
        x(["execution": #"{"blockRows": 10}"#], "unknown key 'execution.blockRows'; did you mean 'block_rows'?"),
        raw(.explain, #"{"execution": {"block_rows": -1, "threads": 4}}"#, "unknown key 'execution.threads'"),
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
        x(["input": nil], "missing key 'input'"),
        x(["input": "{}"], "missing key 'input.file'"),
        x(["input": #"{"file": "a"}"#], "missing key 'input.dataset'"),
        x(["model": nil], "missing key 'model'"),
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
        g(#"{"algorithm": "dbscan", "clusters": 3}"#, #"fit.algorithm must be "kmeans", "kernel_kmeans" or "softmax""#),
        g(#"{"algorithm": "KMeans", "clusters": 3}"#, #"fit.algorithm must be "kmeans", "kernel_kmeans" or "softmax""#),
        // Softmax heads (issue 21).
        g(#"{"algorithm": "kmeans", "clusters": 3, "loss": "iic"}"#, "fit.loss applies to softmax only"),
        g(#"{"algorithm": "kernel_kmeans", "clusters": 3, "learning_rate": 0.1}"#, "fit.learning_rate applies to softmax only"),
        g(#"{"algorithm": "softmax", "clusters": 3, "tol": 2}"#, "fit.tol applies to kmeans and kernel_kmeans only"),
        g(#"{"algorithm": "softmax", "clusters": 3, "weight_decay": -0.5}"#, "fit.weight_decay must be a finite number >= 0"),
        g(#"{"algorithm": "softmax", "clusters": 3, "noise": 0}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "softmax", "clusters": 3, "loss": "kl"}"#,
          #"fit.loss must be "mutual_information", "collision_cross_entropy" or "iic""#),
        g(#"{"algorithm": "softmax", "clusters": 3, "learning_rate": 0}"#, "fit.learning_rate must be a finite number > 0"),
        g(#"{"algorithm": "softmax", "clusters": 3, "schedule": "step"}"#, #"fit.schedule must be "constant" or "cosine""#),
        g(#"{"algorithm": "softmax", "clusters": 3, "fairness": -1}"#, "fit.fairness must be a finite number >= 0"),
        g(#"{"algorithm": "softmax", "clusters": 3, "loss": "iic", "perturbation": "0.1"}"#, "fit.perturbation must be a finite number > 0"),
        f(["input": #"{"file": "f", "dataset": "x", "pairs": "y"}"#],
          #"input.pairs applies to fit.algorithm "softmax" with fit.loss "iic" only"#),
        f(["input": #"{"file": "f", "dataset": "x", "pairs": "y"}"#, "fit": #"{"algorithm": "softmax", "clusters": 3}"#],
          #"input.pairs applies to fit.algorithm "softmax" with fit.loss "iic" only"#),
        f(["input": #"{"file": "f", "dataset": "x", "pairs": ""}"#, "fit": #"{"algorithm": "softmax", "clusters": 3, "loss": "iic"}"#],
          "input.pairs must be a non-empty string"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "noise": 0}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans", "noise": 0}"#, "fit.noise applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans", "support_vectors": 0}"#,
          "fit.support_vectors applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "init": "kmeans"}"#, "fit.init applies to kernel_kmeans only"),
        g(#"{"algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "elkan"}"#, #"fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
        g(#"{"algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": 1}"#, #"fit.kmeans_algorithm must be "lloyd" or "hamerly""#),
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

    /// Each key's bad values (one row each).
    static let loopedRows: [Row] = [
        each([#""""#, "1", "null", "true", #"["a"]"#, "{}"]) { x(["input": #"{"file": \#($0), "dataset": "d"}"#], "input.file must be a non-empty string") },
        each([#""""#, "1", "null", "true", #"["a"]"#, "{}"]) { x(["input": #"{"file": "f", "dataset": \#($0)}"#], "input.dataset must be a non-empty string") },
        each([#""""#, "1", "null", "true", #"["a"]"#, "{}"]) { x(["model": #"{"file": \#($0)}"#], "model.file must be a non-empty string") },
        each([#""""#, "1", "null", "true", #"["a"]"#, "{}"]) { x(["output": #"{"file": \#($0)}"#], "output.file must be a non-empty string") },
        each([#""yes""#, "1", "0", "null", #""false""#]) { x(["output": #"{"file": "o", "overwrite": \#($0)}"#], "output.overwrite must be true or false") },
        each(["0", "-1", "-0.5", "0.0", #""Auto""#, #""fixed""#, #""1""#, "null", "true", "false", "[]", "{}"]) {
            e(#"{"beta": \#($0)}"#, #"explain.beta must be "auto" or a positive finite number"#)
        },
        each([#""predicted""#, #""Assigned""#, "1", "null", "true", #"["assigned"]"#, "[]", "[1, 1]", "[-1]", "[1.5]", #""ALL""#]) {
            e(#"{"target": \#($0)}"#, targetMessage)
        },
        each(["0", "-1e-4", "1", "2", #""1e-4""#, #""NaN""#, "null", "true", "[1e-4]", "{}"]) {
            e(#"{"pruning": {"tolerance": \#($0)}}"#, "explain.pruning.tolerance must be a number in (0, 1)")
        },
        each(["0", "1", "-0.5", "1.5", #""0.5""#, "null"]) {
            e(#"{"mode": "absolute", "theta": \#($0)}"#, "explain.theta must be a number in (0, 1)")
        },
        each(["10", "-1", "1.5", "true", #""6""#]) {
            x(["output": #"{"file": "o.h5", "compression": \#($0)}"#], "output.compression must be an integer from 0 to 9")
        },
        each(["0", "-1", "1048577", "1.5", "true", #""8192""#, "null", "1e300", "-0", "[8192]"]) {
            x(["execution": #"{"block_rows": \#($0)}"#], "execution.block_rows must be an integer from 1 to 1048576")
        },
        each(["-1", "1048577", "0.5", "true", #""256""#, "null"]) {
            x(["execution": #"{"cache_mb": \#($0)}"#], "execution.cache_mb must be an integer from 0 to 1048576")
        },
        each([#""Parallel""#, #""collective""#, #""""#, "1", "true", "null", #"["root"]"#]) {
            x(["execution": #"{"read": \#($0)}"#], #"execution.read must be "root", "parallel" or "auto""#)
        },
        each([#""NEON""#, #""lrp""#, "1", "null", #"["neon"]"#, #""""#]) { e(#"{"method": \#($0)}"#, "explain.method must be one of \(methods)") },
        each(["0", "-1", "100001", "2.5", #""10""#, "true"]) { e(#"{"steps": \#($0)}"#, "explain.steps must be an integer from 1 to 100000") },
        each(["0", "-1", "100001", "2.5", #""10""#, "true"]) { e(#"{"samples": \#($0)}"#, "explain.samples must be an integer from 1 to 100000") },
        each(["-1", "9007199254740994", "0.5", #""1""#]) {
            e(#"{"seed": \#($0)}"#, "explain.seed must be an integer from 0 to 9007199254740992")
        },
        each(["[]", #""neon""#, "1", "null", "{}"]) {
            v(#"{"methods": \#($0)}"#, "evaluate.methods must be a non-empty array of method names")
        },
        each(["0", "10001", "1.5", #""3""#]) { v(#"{"repeats": \#($0)}"#, "evaluate.repeats must be an integer from 1 to 10000") },
        each(["-3", "1e17", #""0""#]) { v(#"{"seed": \#($0)}"#, "evaluate.seed must be an integer from 0 to 9007199254740992") },
        each(["1", "0", "1048577", "100.5", "null"]) {
            v(#"{"reference_rows": \#($0)}"#, "evaluate.reference_rows must be an integer from 2 to 1048576")
        },
        each(["0", "2147483648", "1.5", "null"]) { v(#"{"samples": \#($0)}"#, "evaluate.samples must be an integer from 1 to 2147483647") },
        each(["0", "-1", #""LOO""#, "null", "[1]"]) { v(#"{"sigma": \#($0)}"#, #"evaluate.sigma must be "loo" or a positive finite number"#) },
        each(["0", "1048577", "2.5", #""64""#, "null"]) {
            v(#"{"block_samples": \#($0)}"#, "evaluate.block_samples must be an integer from 1 to 1048576")
        },
        each([#""""#, "1", "null"]) { v(#"{"file": \#($0)}"#, "evaluate.file must be a non-empty string") },
    ].flatMap { $0 }

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

/// Valid jobs: each setting parses to its NeonSettings value; the String accessors agree.
final class JobSpecTypedSettingsTests: XCTestCase {
    let path = JobSpecErrorTableTests.path

    func explainJob(_ sections: KeyValuePairs<String, String?>) throws -> JobSpec {
        try JobSpec.parse(text: JobSpecErrorTableTests.job(.explain, sections), jobPath: path)
    }

    func fitJob(_ fit: String) throws -> FitSpec {
        try FitSpec.parse(text: JobSpecErrorTableTests.job(.fit, ["fit": fit]), jobPath: path)
    }

    func testDefaults() throws {
        let spec = try explainJob([:])
        XCTAssertEqual(spec.method, .neon)
        XCTAssertEqual(spec.kernelRule, .paper)
        XCTAssertEqual(spec.lrp.conv2d, .gamma)
        XCTAssertEqual(spec.lrp.linear, .epsilon)
        XCTAssertEqual(spec.readMode, .root)
        XCTAssertEqual(spec.beta, .auto)
        XCTAssertEqual(spec.target, .assigned)
        XCTAssertEqual(spec.mode, .relative)
        XCTAssertNil(spec.evaluate.methods)
        XCTAssertEqual([spec.method.rawValue, spec.kernelRule.rawValue, spec.lrp.conv2d.rawValue, spec.lrp.linear.rawValue,
                        spec.readMode.rawValue], ["neon", "paper", "gamma", "epsilon", "root"])
        XCTAssertNil(spec.evaluate.methods)
        XCTAssertEqual([spec.blockRows, spec.cacheMegabytes, spec.compression], [8192, 256, 0])
        XCTAssertEqual(spec.maxOutputBytes, 64 << 30)
        let fit = try fitJob(#"{"algorithm": "kernel_kmeans", "clusters": 3}"#)
        XCTAssertEqual(fit.algorithm, .kernelKMeans)
        XCTAssertEqual(fit.kmeansMethod, .hamerly)
        XCTAssertEqual(fit.kernelInit, .kmeans)
    }

    func testEveryNameParsesToItsValue() throws {
        for method in ExplanationMethodName.allCases {
            let spec = try explainJob(["explain": #"{"method": "\#(method.rawValue)"}"#])
            XCTAssertEqual(spec.method, method)
            XCTAssertEqual(spec.method.rawValue, method.rawValue)
        }
        for rule in KernelRuleName.allCases {
            let spec = try explainJob(["explain": #"{"kernel_rule": "\#(rule.rawValue)"}"#])
            XCTAssertEqual(spec.kernelRule, rule)
            XCTAssertEqual(spec.kernelRule.rawValue, rule.rawValue)
        }
        for rule in LRPConv2dRuleName.allCases {
            let lrp = try explainJob(["explain": #"{"lrp": {"conv2d": "\#(rule.rawValue)"}}"#]).lrp
            XCTAssertEqual(lrp.conv2d, rule)
            XCTAssertEqual(lrp.conv2d.rawValue, rule.rawValue)
        }
        for rule in LRPLinearRuleName.allCases {
            let lrp = try explainJob(["explain": #"{"lrp": {"linear": "\#(rule.rawValue)"}}"#]).lrp
            XCTAssertEqual(lrp.linear, rule)
            XCTAssertEqual(lrp.linear.rawValue, rule.rawValue)
        }
        for mode in ReadMode.allCases {
            let spec = try explainJob(["execution": #"{"read": "\#(mode.rawValue)"}"#])
            XCTAssertEqual(spec.readMode, mode)
            XCTAssertEqual(spec.readMode.rawValue, mode.rawValue)
        }
        XCTAssertEqual(ReadMode.allCases.map(\.rawValue), ["root", "parallel", "auto"])
        for algorithm in FitAlgorithmName.allCases {
            XCTAssertEqual(try fitJob(#"{"algorithm": "\#(algorithm.rawValue)", "clusters": 3}"#).algorithm, algorithm)
        }
        for method in KMeansAlgorithmName.allCases {
            XCTAssertEqual(try fitJob(#"{"algorithm": "kmeans", "clusters": 3, "kmeans_algorithm": "\#(method.rawValue)"}"#).kmeansMethod,
                           method)
        }
    }

    func testSoftmaxSettings() throws {
        for loss in SoftmaxLossName.allCases {
            let fit = try fitJob(#"{"algorithm": "softmax", "clusters": 4, "loss": "\#(loss.rawValue)"}"#)
            XCTAssertEqual(fit.algorithm, .softmax)
            XCTAssertEqual(fit.softmax?.loss, loss)
        }
        let defaults = try fitJob(#"{"algorithm": "softmax", "clusters": 4}"#)
        XCTAssertEqual(defaults.softmax, FitSpec.Softmax(loss: .mutualInformation, learningRate: nil, schedule: nil,
                                                         fairness: nil, perturbation: nil, pairsDataset: nil))
        XCTAssertEqual(defaults.maxIterations, 200)
        let set = try fitJob(#"{"algorithm": "softmax", "clusters": 4, "loss": "iic", "learning_rate": 0.01, "schedule": "constant", "#
                             + #""fairness": 2, "perturbation": 0.5, "max_iter": 7}"#)
        XCTAssertEqual(set.softmax, FitSpec.Softmax(loss: .iic, learningRate: 0.01, schedule: .constant, fairness: 2,
                                                    perturbation: 0.5, pairsDataset: nil))
        XCTAssertEqual(defaults.restarts, 4)
        XCTAssertEqual(set.maxIterations, 7)
        XCTAssertNil(try fitJob(#"{"algorithm": "kmeans", "clusters": 4}"#).softmax)
    }

    func testValuesWithNumbers() throws {
        let spec = try explainJob([
            "output": #"{"file": "o.h5", "overwrite": true, "resume": true, "compression": 9, "max_bytes": 1000}"#,
            "explain": #"{"beta": 0.5, "target": [3, 0, 7], "mode": "absolute", "theta": 0.9, "pruning": {"tolerance": 1e-4},"# +
                       #" "lrp": {"conv2d": "zero", "linear": "gamma", "gamma": 0.25, "epsilon": 0.01}, "steps": 3, "samples": 2, "seed": 5}"#,
            "execution": #"{"block_rows": 4.096e3, "cache_mb": 0}"#,
            "evaluate": #"{"methods": ["nca", "neon", "random"], "sigma": "loo"}"#,
        ])
        XCTAssertEqual([spec.overwrite, spec.resume], [true, true])
        XCTAssertEqual(spec.compression, 9)
        XCTAssertEqual(spec.maxOutputBytes, 1000)
        XCTAssertEqual(spec.beta, .fixed(0.5))
        XCTAssertEqual(spec.target, .clusters([3, 0, 7]))
        XCTAssertEqual(spec.target.text, "[3, 0, 7]")
        XCTAssertEqual(spec.mode, .absolute(theta: 0.9))
        XCTAssertEqual(spec.pruningTolerance, 1e-4)
        XCTAssertEqual(spec.lrp.conv2d, .zero)
        XCTAssertEqual(spec.lrp.linear, .gamma)
        XCTAssertEqual([spec.lrp.gamma, spec.lrp.epsilon], [0.25, 0.01])
        XCTAssertEqual([spec.steps, spec.samples, spec.blockRows, spec.cacheMegabytes], [3, 2, 4096, 0])
        XCTAssertEqual(spec.seed, 5)
        XCTAssertEqual(spec.evaluate.methods, [.nca, .neon, .random])
        XCTAssertEqual(spec.evaluate.methods?.map(\.rawValue), ["nca", "neon", "random"])
        XCTAssertNil(spec.evaluate.sigma)
        XCTAssertEqual(try explainJob(["explain": #"{"target": "all", "mode": "relative", "theta": 0.3}"#]).mode, .relative)
    }

    /// Names match code point by code point, as JSON compares strings; the messages list every name.
    func testSettingNames() {
        XCTAssertEqual(ReadMode(exactly: "parallel"), .parallel)
        XCTAssertNil(ReadMode(exactly: "Parallel"))
        XCTAssertNil(ReadMode(exactly: "parallel "))
        XCTAssertEqual(KernelRuleName.alternatives, #""paper" or "conservative""#)
        XCTAssertEqual(LRPLinearRuleName.alternatives, #""epsilon", "gamma" or "zero""#)
        XCTAssertEqual(ExplanationMethodName.quotedNames, JobSpec.methodNames.map { "\"\($0)\"" }.joined(separator: ", "))
        XCTAssertEqual(JobSpec.methodList, ExplanationMethodName.namesList)
    }
}
