/// explain.kernel_rule (kernel k-means): how footnote 1's relevance on a detection neuron is
/// reassigned before the midpoint rule. NeonCore calls it `KernelRule` and documents both rules.
public enum KernelRuleName: String, SettingName {
    /// Eq. 10 (the default).
    case paper
    case conservative
}
