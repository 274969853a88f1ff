namespace Fleetkey.Client;

/// <summary>An access key that signs requests, and where it came from (for error messages, never the secret).</summary>
internal sealed class AwsCredentials(string accessKeyId, string secretAccessKey, string? sessionToken, string source)
{
    public string AccessKeyId { get; } = accessKeyId;

    public string SecretAccessKey { get; } = secretAccessKey;

    public string? SessionToken { get; } = sessionToken;

    /// <summary>Where the key was found, e.g. <c>environment</c> or <c>~/.aws/credentials [default]</c>.</summary>
    public string Source { get; } = source;

    public override string ToString() => $"{AccessKeyId} ({Source})";
}
