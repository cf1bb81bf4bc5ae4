// libFuzzer target for the job-file parser (Sources/Storage/JSONValue.swift, JobSpec*.swift, FieldReader.swift; NeonSettings),
// built by scripts/fuzz-jobspec.sh with `swiftc -sanitize=fuzzer,address`. Properties checked on
// every input: no crash, no hang, no memory error; every rejection is a JobError whose message
// is one line starting with the job path; an accepted job parses again to the same JobSpec.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobSpec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let path = "/fuzz/job.json"
    do {
        let job = try JobSpec.parse(text: text, jobPath: path)
        let again = try JobSpec.parse(text: job.jobText, jobPath: path)
        precondition(again == job, "re-parsing an accepted job gave another JobSpec")
    } catch let error as JobError {
        precondition(error.message.hasPrefix(path + ": "), "message without the job path: \(error.message)")
        precondition(!error.message.contains("\n"), "message of more than one line: \(error.message)")
    } catch {
        preconditionFailure("parse threw \(type(of: error)), not JobError")
    }
    return 0
}
