namespace Fleetkey.Client;

/// <summary>The endpoint, region and credentials a client signs and sends with, once resolved.</summary>
internal sealed record ClientConfiguration(Uri Endpoint, string Region, AwsCredentials Credentials, string? CaBundle = null)
{
    /// <summary>Resolves <paramref name="options"/> against this process's environment and the user's AWS files.</summary>
    public static ClientConfiguration Resolve(IotClientOptions options) =>
        Resolve(options, Environment.GetEnvironmentVariable, Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>Resolves <paramref name="options"/> in the order <see cref="IotClientOptions"/> documents.</summary>
    /// <exception cref="InvalidOperationException">No region, no credentials, half a key, a missing named profile or an endpoint that is not an absolute http(s) URL.</exception>
    /// <remarks>The CA bundle is only named here; <see cref="ClientHandler"/> reads it.</remarks>
    public static ClientConfiguration Resolve(IotClientOptions options, Func<string, string?> environment, string home)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;
        string FilePath(string variable, string fallback) =>
            Env(variable) is { } path ? (path.StartsWith("~/", StringComparison.Ordinal) ? System.IO.Path.Combine(home, path[2..]) : path) : System.IO.Path.Combine(home, ".aws", fallback);

        var profile = options.Profile ?? Env("AWS_PROFILE") ?? "default";
        var credentialsFile = new Lazy<SharedConfigFile>(() => SharedConfigFile.Read(FilePath("AWS_SHARED_CREDENTIALS_FILE", "credentials")));
        var configFile = new Lazy<SharedConfigFile>(() => SharedConfigFile.Read(FilePath("AWS_CONFIG_FILE", "config")));

        var credentials = ExplicitCredentials(options)
            ?? (options.Profile is not null ? ProfileCredentials(profile, credentialsFile.Value, configFile.Value, required: true) : null)
            ?? EnvironmentCredentials(Env)
            ?? ProfileCredentials(profile, credentialsFile.Value, configFile.Value, required: false)
            ?? throw new InvalidOperationException(
                $"No AWS credentials: set IotClientOptions.AccessKeyId and SecretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
                $"or profile '{profile}' in {credentialsFile.Value.Path}.");

        var configProfile = new Lazy<IReadOnlyDictionary<string, string>?>(() => configFile.Value.ConfigProfile(profile));
        var region = options.Region
            ?? Env("AWS_REGION")
            ?? Env("AWS_DEFAULT_REGION")
            ?? Setting(configProfile.Value, "region")
            ?? throw new InvalidOperationException(
                $"No AWS region: set IotClientOptions.Region, AWS_REGION or AWS_DEFAULT_REGION, or region in profile '{profile}' of {configFile.Value.Path}.");

        var endpoint = options.Endpoint
            ?? Url(Env("AWS_ENDPOINT_URL_IOT"), "AWS_ENDPOINT_URL_IOT")
            ?? Url(Env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL")
            ?? Url(Setting(configProfile.Value, "endpoint_url"), $"endpoint_url of profile '{profile}'")
            ?? new Uri(region.StartsWith("cn-", StringComparison.Ordinal) ? $"https://iot.{region}.amazonaws.com.cn" : $"https://iot.{region}.amazonaws.com");
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"The endpoint must be an absolute http or https URL, not '{endpoint}'.");
        }

        var caBundle = options.CaBundle ?? Env("AWS_CA_BUNDLE") ?? Setting(configProfile.Value, "ca_bundle");
        if (caBundle is not null && caBundle.StartsWith("~/", StringComparison.Ordinal))
        {
            caBundle = System.IO.Path.Combine(home, caBundle[2..]);
        }

        return new ClientConfiguration(endpoint, region, credentials, caBundle);
    }

    private static AwsCredentials? ExplicitCredentials(IotClientOptions options) =>
        Pair(options.AccessKeyId, options.SecretAccessKey, options.SessionToken, "IotClientOptions", "IotClientOptions.AccessKeyId and SecretAccessKey");

    private static AwsCredentials? EnvironmentCredentials(Func<string, string?> env) =>
        Pair(env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"), "environment", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");

    private static AwsCredentials? ProfileCredentials(string profile, SharedConfigFile credentialsFile, SharedConfigFile configFile, bool required)
    {
        foreach (var (file, section) in new[] { (credentialsFile, credentialsFile.CredentialsProfile(profile)), (configFile, configFile.ConfigProfile(profile)) })
        {
            var source = $"profile '{profile}' of {file.Path}";
            if (Pair(Setting(section, "aws_access_key_id"), Setting(section, "aws_secret_access_key"), Setting(section, "aws_session_token"), source, $"aws_access_key_id and aws_secret_access_key in {source}") is { } found)
            {
                return found;
            }
        }

        return required
            ? throw new InvalidOperationException($"Profile '{profile}' has no aws_access_key_id and aws_secret_access_key in {credentialsFile.Path} or {configFile.Path}.")
            : null;
    }

    private static AwsCredentials? Pair(string? accessKeyId, string? secretAccessKey, string? sessionToken, string source, string names)
    {
        if (string.IsNullOrEmpty(accessKeyId) && string.IsNullOrEmpty(secretAccessKey))
        {
            return null;
        }

        if (string.IsNullOrEmpty(accessKeyId) || string.IsNullOrEmpty(secretAccessKey))
        {
            throw new InvalidOperationException($"Half an access key: set both {names}.");
        }

        return new AwsCredentials(accessKeyId, secretAccessKey, string.IsNullOrEmpty(sessionToken) ? null : sessionToken, source);
    }

    private static string? Setting(IReadOnlyDictionary<string, string>? section, string key) =>
        section is not null && section.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    private static Uri? Url(string? value, string source) =>
        value is null ? null
            : Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri
            : throw new InvalidOperationException($"{source} is not an absolute URL: '{value}'.");
}
