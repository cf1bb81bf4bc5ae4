import ArgumentParser
import NeonPipeline

/// `--part I/N` on the command line (Part(argument:) parses "I/N").
extension Part: ExpressibleByArgument {
    public static var defaultCompletionKind: CompletionKind { .default }
}
