namespace Fleetkey.Policies;

/// <summary>What a <see cref="PolicyDialect"/> changes in the parser, in one place.</summary>
/// <param name="ActionVendors">The vendors (service prefixes) an action may name, compared ignoring case.</param>
/// <param name="ChecksTypedConditionValues">
/// Whether IpAddress, Numeric* and Date* values must read as addresses, numbers and dates. The IoT
/// dialect accepts such a value as it always has (it never matches); the identity dialect refuses it:
/// IAM refuses a date it cannot read ("The policy failed legacy parsing") and IAM Access Analyzer flags
/// an IP range or number it cannot read ("Type mismatch IP range", "Type mismatch number").
/// </param>
internal sealed record PolicyDialectRules(
    string[] ActionVendors, string ActionShape, string VendorProblem, string PrincipalProblem, int DefaultMaxSignificantLength, bool ChecksTypedConditionValues)
{
    // Greengrass core-device policies (greengrass:*) are AWS IoT policies.
    public static readonly PolicyDialectRules IotPolicy = new(
        ActionVendors: ["iot", "greengrass"],
        ActionShape: "an action is \"iot:<name>\" (or \"*\")",
        VendorProblem: "AWS IoT policies name only iot: and greengrass: actions",
        PrincipalProblem: "AWS IoT policies apply to the principal they are attached to",
        DefaultMaxSignificantLength: PolicyDocumentParser.DefaultMaxSignificantLength,
        ChecksTypedConditionValues: false);

    public static readonly PolicyDialectRules IdentityPolicy = new(
        ActionVendors: ["iot", "fleetkey"],
        ActionShape: "an action is \"iot:<name>\" or \"fleetkey:<name>\" (or \"*\")",
        VendorProblem: "identity policies name only iot: and fleetkey: actions",
        PrincipalProblem: "identity policies apply to the access key they are attached to",
        DefaultMaxSignificantLength: PolicyDocumentParser.IdentityPolicyMaxSignificantLength,
        ChecksTypedConditionValues: true);

    public static PolicyDialectRules For(PolicyDialect dialect) => dialect switch
    {
        PolicyDialect.IotPolicy => IotPolicy,
        PolicyDialect.IdentityPolicy => IdentityPolicy,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "not a policy dialect"),
    };
}
