/// explain.lrp.conv2d: the LRP rule through Psi's Conv2d layers (LRP-0 = gamma 0).
public enum LRPConv2dRuleName: String, SettingName {
    case gamma
    case zero
}

/// explain.lrp.linear: the LRP rule through Psi's Linear layers.
public enum LRPLinearRuleName: String, SettingName {
    case epsilon
    case gamma
    case zero
}
