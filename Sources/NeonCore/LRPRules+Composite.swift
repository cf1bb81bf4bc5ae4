extension LRPRules {
    /// The composite of these settings: conv2d LRP-gamma (LRP-0 for gamma = 0), linear LRP-epsilon
    /// or LRP-gamma (LRP-0 for gamma = 0), maxpool2d winner-take-all, avgpool2d and global_avg_pool
    /// proportional, relu and flatten pass-through; eps stabilises every denominator.
    public var composite: LRPComposite {
        func gamma(_ g: Double) -> any LRPRule {
            g == 0 ? ZeroRule(stabiliser: epsilon) : GammaRule(gamma: g, stabiliser: epsilon)
        }
        return LRPComposite([
            .conv2d: gamma(convGamma),
            .linear: linearRule == .epsilon ? EpsilonRule(epsilon: epsilon) : gamma(linearGamma),
            .maxPool2d: WinnerTakesAllRule(),
            .avgPool2d: ProportionalRule(),
            .globalAvgPool: ProportionalRule(),
            .relu: PassThroughRule(),
            .flatten: PassThroughRule(),
        ])
    }
}
