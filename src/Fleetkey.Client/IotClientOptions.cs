namespace Fleetkey.Client;

/// <summary>
/// How <see cref="IotClient"/> reaches the service and signs: each value left unset is looked up
/// the way the AWS SDKs and CLI look it up.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>Endpoint: <see cref="Endpoint"/>, else <c>AWS_ENDPOINT_URL_IOT</c>, else
/// <c>AWS_ENDPOINT_URL</c>, else the profile's <c>endpoint_url</c> in the shared config file, else AWS
/// IoT's own <c>https://iot.REGION.amazonaws.com</c>.</description></item>
/// <item><description>Region: <see cref="Region"/>, else <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>,
/// else the profile's <c>region</c> in the shared config file (<c>AWS_CONFIG_FILE</c>, default
/// <c>~/.aws/config</c>).</description></item>
/// <item><description>Trusted CAs: <see cref="CaBundle"/>, else <c>AWS_CA_BUNDLE</c>, else the profile's <c>ca_bundle</c>
/// in the shared config file, else the system's roots.</description></item>
/// <item><description>Credentials: <see cref="AccessKeyId"/> and <see cref="SecretAccessKey"/>; else,
/// when <see cref="Profile"/> is set, that profile; else <c>AWS_ACCESS_KEY_ID</c> and
/// <c>AWS_SECRET_ACCESS_KEY</c> (with <c>AWS_SESSION_TOKEN</c>); else the profile named by
/// <c>AWS_PROFILE</c> (default <c>default</c>) in the shared credentials file
/// (<c>AWS_SHARED_CREDENTIALS_FILE</c>, default <c>~/.aws/credentials</c>), then in the shared config
/// file.</description></item>
/// </list>
/// They are resolved once, when the client is created.
/// </remarks>
public sealed class IotClientOptions
{
    /// <summary>The control-plane URL, e.g. <c>http://127.0.0.1:5080</c> for a local Fleetkey.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The region that scopes the signature (and, on Fleetkey and AWS, the ARNs).</summary>
    public string? Region { get; set; }

    /// <summary>The access key id; set together with <see cref="SecretAccessKey"/>.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key; never logged or printed by the client.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>A session token for temporary AWS credentials (Fleetkey issues none).</summary>
    public string? SessionToken { get; set; }

    /// <summary>
    /// A PEM file of the CA certificates the endpoint's TLS certificate must chain to, instead of the
    /// system's trusted roots: a Fleetkey serving its own CA's certificate is trusted with <c>DIR/ca.pem</c>.
    /// Unset: <c>AWS_CA_BUNDLE</c>, else the profile's <c>ca_bundle</c> in the shared config file, as the AWS CLI
    /// and SDKs look it up. It applies to the connections the client makes itself (this constructor's and
    /// <c>AddFleetkeyClient</c>'s); an <see cref="HttpClient"/> passed in keeps its own handler's trust.
    /// </summary>
    public string? CaBundle { get; set; }

    /// <summary>A profile of the shared credentials and config files, taking precedence over the environment's keys.</summary>
    public string? Profile { get; set; }

    /// <summary>
    /// How many times a call is sent at most (default 3, as the AWS SDKs' standard retry mode): a
    /// call is retried only on throttling (HTTP 429, <c>ThrottlingException</c>), on HTTP 5xx and on
    /// a failed connection; never on another 4xx. 1 turns retries off.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The backoff before the first retry; it doubles on each further retry, up to <see cref="MaxRetryDelay"/>, and each wait is a random part of it ("full jitter").</summary>
    public TimeSpan BaseRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff between two attempts (default 20 s, as the AWS SDKs).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(20);
}
