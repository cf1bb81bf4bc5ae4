/// explain.method and evaluate.methods: NEON and the baselines of Sec. VII (Table I). NeonCore
/// calls it `ExplanationMethod` and adds what each method needs.
public enum ExplanationMethodName: String, SettingName {
    case neon
    case random
    /// x_i^2
    case x2
    /// (d f_c / d x_i)^2
    case sensitivity
    /// Integrated gradients of f_c from the origin.
    case ig
    /// Prediction difference, the feature set to zero.
    case pda0
    /// Prediction difference, the feature imputed by KDE conditional sampling (Appendix G).
    case pdacs
    /// Nearest centroid analysis (k-means only).
    case nca

    /// The list of names, for messages: "neon", "random", ...
    public static var namesList: String { quotedNames }
}
