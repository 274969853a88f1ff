using Xunit;

namespace Fleetkey.Client.Tests;

/// <summary>Where the endpoint, region and credentials come from, in the AWS SDKs' order.</summary>
public sealed class ClientConfigurationTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("fleetkey-client-home-");
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public void Resolve_ExplicitOptions_WinOverEnvironmentAndFiles()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "us-east-1";
        _environment["AWS_ENDPOINT_URL_IOT"] = "http://env-iot:1";
        WriteCredentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n");

        var resolved = Resolve(new IotClientOptions
        {
            Endpoint = new Uri("http://127.0.0.1:5080"),
            Region = "eu-west-1",
            AccessKeyId = "AKIDOPTIONS",
            SecretAccessKey = "options-secret",
        });

        Assert.Equal(new Uri("http://127.0.0.1:5080"), resolved.Endpoint);
        Assert.Equal("eu-west-1", resolved.Region);
        Assert.Equal(("AKIDOPTIONS", "options-secret", "IotClientOptions"), (resolved.Credentials.AccessKeyId, resolved.Credentials.SecretAccessKey, resolved.Credentials.Source));
    }

    [Fact]
    public void Resolve_EnvironmentKeys_WinOverCredentialsFile()
    {
        SetEnvironmentKeys();
        _environment["AWS_SESSION_TOKEN"] = "token-env";
        _environment["AWS_DEFAULT_REGION"] = "eu-central-1";
        WriteCredentials("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n");

        var resolved = Resolve(new IotClientOptions());

        Assert.Equal(("AKIDENV", "env-secret", "token-env", "environment"), (resolved.Credentials.AccessKeyId, resolved.Credentials.SecretAccessKey, resolved.Credentials.SessionToken, resolved.Credentials.Source));
        Assert.Equal("eu-central-1", resolved.Region);
    }

    [Fact]
    public void Resolve_NoEnvironmentKeys_ReadsDefaultProfileOfDefaultCredentialsFile()
    {
        _environment["AWS_REGION"] = "eu-west-1";
        WriteCredentials("""
            # comment
            [other]
            aws_access_key_id = AKIDOTHER
            aws_secret_access_key = other-secret

            [default]
            aws_access_key_id=AKIDFILE
            ; another comment
            aws_secret_access_key =  file/secret+x=
            """);

        var resolved = Resolve(new IotClientOptions());

        Assert.Equal(("AKIDFILE", "file/secret+x="), (resolved.Credentials.AccessKeyId, resolved.Credentials.SecretAccessKey));
        Assert.Contains(Path.Combine(_home.FullName, ".aws", "credentials"), resolved.Credentials.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AwsProfileAndCredentialsFileVariables_SelectProfileAndFile()
    {
        var file = Path.Combine(_home.FullName, "elsewhere.ini");
        File.WriteAllText(file, "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n[factory]\naws_access_key_id = AKIDFACTORY\naws_secret_access_key = f\n");
        _environment["AWS_SHARED_CREDENTIALS_FILE"] = file;
        _environment["AWS_PROFILE"] = "factory";
        _environment["AWS_REGION"] = "eu-west-1";

        var resolved = Resolve(new IotClientOptions());

        Assert.Equal("AKIDFACTORY", resolved.Credentials.AccessKeyId);
    }

    [Fact]
    public void Resolve_AwsProfileSetButEnvironmentKeysToo_EnvironmentKeysWin()
    {
        // botocore: AWS_PROFILE only chooses the profile the file provider reads; the environment comes first.
        SetEnvironmentKeys();
        _environment["AWS_PROFILE"] = "factory";
        _environment["AWS_REGION"] = "eu-west-1";
        WriteCredentials("[factory]\naws_access_key_id = AKIDFACTORY\naws_secret_access_key = f\n");

        Assert.Equal("AKIDENV", Resolve(new IotClientOptions()).Credentials.AccessKeyId);
    }

    [Fact]
    public void Resolve_ProfileInOptions_WinsOverEnvironmentKeys()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "eu-west-1";
        WriteCredentials("[factory]\naws_access_key_id = AKIDFACTORY\naws_secret_access_key = f\n");

        Assert.Equal("AKIDFACTORY", Resolve(new IotClientOptions { Profile = "factory" }).Credentials.AccessKeyId);
    }

    [Fact]
    public void Resolve_ProfileInOptionsMissing_ThrowsNamingProfile()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "eu-west-1";

        var exception = Assert.Throws<InvalidOperationException>(() => Resolve(new IotClientOptions { Profile = "nope" }));

        Assert.Contains("'nope'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_RegionAndKeysOnlyInConfigFile_ReadsProfileSection()
    {
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".aws"));
        File.WriteAllText(Path.Combine(_home.FullName, ".aws", "config"), """
            [default]
            region = us-west-2
            [profile factory]
            region = ap-southeast-2
            aws_access_key_id = AKIDCONFIG
            aws_secret_access_key = c
            endpoint_url = http://127.0.0.1:7000
            s3 =
              max_concurrent_requests = 20
            """);
        _environment["AWS_PROFILE"] = "factory";

        var resolved = Resolve(new IotClientOptions());

        Assert.Equal("ap-southeast-2", resolved.Region);
        Assert.Equal("AKIDCONFIG", resolved.Credentials.AccessKeyId);
        Assert.Equal(new Uri("http://127.0.0.1:7000"), resolved.Endpoint);
    }

    [Fact]
    public void Resolve_RegionVariables_AwsRegionBeforeAwsDefaultRegion()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "eu-west-1";
        _environment["AWS_DEFAULT_REGION"] = "us-east-1";

        Assert.Equal("eu-west-1", Resolve(new IotClientOptions()).Region);
    }

    [Fact]
    public void Resolve_EndpointVariables_ServiceSpecificBeforeGlobal()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "eu-west-1";
        _environment["AWS_ENDPOINT_URL"] = "http://global:1";
        Assert.Equal(new Uri("http://global:1"), Resolve(new IotClientOptions()).Endpoint);

        _environment["AWS_ENDPOINT_URL_IOT"] = "http://iot-only:2";
        Assert.Equal(new Uri("http://iot-only:2"), Resolve(new IotClientOptions()).Endpoint);
    }

    [Theory]
    [InlineData("eu-west-1", "https://iot.eu-west-1.amazonaws.com/")]
    [InlineData("cn-north-1", "https://iot.cn-north-1.amazonaws.com.cn/")]
    public void Resolve_NoEndpointAnywhere_IsAwsIot(string region, string expected)
    {
        SetEnvironmentKeys();

        Assert.Equal(new Uri(expected), Resolve(new IotClientOptions { Region = region }).Endpoint);
    }

    [Fact]
    public void Resolve_NoRegion_ThrowsNamingWhereItLooked()
    {
        SetEnvironmentKeys();

        var exception = Assert.Throws<InvalidOperationException>(() => Resolve(new IotClientOptions()));

        Assert.Contains("AWS_REGION", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoCredentials_ThrowsNamingWhereItLooked()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => Resolve(new IotClientOptions { Region = "eu-west-1" }));

        Assert.Contains("AWS_ACCESS_KEY_ID", exception.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_home.FullName, ".aws", "credentials"), exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_HalfAnEnvironmentKey_Throws()
    {
        _environment["AWS_ACCESS_KEY_ID"] = "AKIDENV";

        Assert.Throws<InvalidOperationException>(() => Resolve(new IotClientOptions { Region = "eu-west-1" }));
    }

    [Theory]
    [InlineData("ftp://example.com")]
    [InlineData("not a url")]
    public void Resolve_EndpointNotHttp_Throws(string endpoint)
    {
        SetEnvironmentKeys();
        _environment["AWS_ENDPOINT_URL_IOT"] = endpoint;

        Assert.Throws<InvalidOperationException>(() => Resolve(new IotClientOptions { Region = "eu-west-1" }));
    }

    [Fact]
    public void Credentials_ToString_NeverShowsTheSecret()
    {
        SetEnvironmentKeys();

        var credentials = Resolve(new IotClientOptions { Region = "eu-west-1" }).Credentials;

        Assert.DoesNotContain("env-secret", credentials.ToString(), StringComparison.Ordinal);
        Assert.Contains("AKIDENV", credentials.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CaBundle_OptionThenEnvironmentThenProfileAsTheAwsCli()
    {
        SetEnvironmentKeys();
        _environment["AWS_REGION"] = "eu-west-1";
        Assert.Null(Resolve(new IotClientOptions()).CaBundle);

        Directory.CreateDirectory(Path.Combine(_home.FullName, ".aws"));
        File.WriteAllText(Path.Combine(_home.FullName, ".aws", "config"), "[default]\nca_bundle = ~/fleet/ca.pem\n");
        Assert.Equal(Path.Combine(_home.FullName, "fleet/ca.pem"), Resolve(new IotClientOptions()).CaBundle);

        _environment["AWS_CA_BUNDLE"] = "/env/ca.pem";
        Assert.Equal("/env/ca.pem", Resolve(new IotClientOptions()).CaBundle);
        Assert.Equal("/options/ca.pem", Resolve(new IotClientOptions { CaBundle = "/options/ca.pem" }).CaBundle);
    }

    private ClientConfiguration Resolve(IotClientOptions options) =>
        ClientConfiguration.Resolve(options, name => _environment.GetValueOrDefault(name), _home.FullName);

    private void SetEnvironmentKeys()
    {
        _environment["AWS_ACCESS_KEY_ID"] = "AKIDENV";
        _environment["AWS_SECRET_ACCESS_KEY"] = "env-secret";
    }

    private void WriteCredentials(string text)
    {
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".aws"));
        File.WriteAllText(Path.Combine(_home.FullName, ".aws", "credentials"), text);
    }
}
