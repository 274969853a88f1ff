using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fleetkey.Hosting;
using Fleetkey.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Testing;

/// <summary>
/// The whole Fleetkey application in process (the real composition root, a real database) behind
/// ASP.NET Core's TestServer, with a clock the test controls and a client that signs requests with
/// the root key Fleetkey generated. The database is SQLite in a temp data directory, or, with
/// FLEETKEY_TEST_STORE=postgres, a fresh PostgreSQL database (as <c>serve --database</c>, so the CA
/// lives in it too); the data directory then holds only the generated credentials.
/// </summary>
public sealed class FleetkeyTestHost : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly TestDatabase? _database;
    private readonly WebApplication _app;

    private FleetkeyTestHost(TempDirectory directory, TestDatabase? database, WebApplication app, FakeTimeProvider time, string accessKeyId, string secret)
    {
        _directory = directory;
        _database = database;
        _app = app;
        Time = time;
        AccessKeyId = accessKeyId;
        SecretAccessKey = secret;
        Client = CreateClient(new SigV4Signer(accessKeyId, secret, Region, () => Time.GetUtcNow()));
        Anonymous = _app.GetTestClient();
    }

    public const string Region = "eu-west-1";

    public FakeTimeProvider Time { get; }

    public string DataDirectory => _directory.Path;

    /// <summary>The PostgreSQL database the app runs on, or null on SQLite.</summary>
    public string? Database => _database?.ConnectionString;

    public IServiceProvider Services => _app.Services;

    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    /// <summary>Signed with the root key.</summary>
    public HttpClient Client { get; }

    /// <summary>Sends requests as they are, unsigned.</summary>
    public HttpClient Anonymous { get; }

    /// <param name="mqttPort">The MQTT broker's port; 0 (the default) runs no broker.</param>
    public static async Task<FleetkeyTestHost> StartAsync(Action<WebApplicationBuilder>? configure = null, int mqttPort = 0)
    {
        var directory = new TempDirectory();
        var database = TestPostgres.Selected ? await TestPostgres.CreateDatabaseAsync() : null;
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var settings = new ServeSettings
            {
                DataDirectory = directory.Path,
                Database = database?.ConnectionString,
                AccountId = "123456789012",
                PublicHost = "iot.fleetkey.test",
                MqttPort = mqttPort,
            };
            var app = await FleetkeyApp.BuildAsync(settings, builder =>
            {
                builder.WebHost.UseTestServer();
                builder.Logging.ClearProviders();
                builder.Services.RemoveAll<TimeProvider>();
                builder.Services.AddSingleton<TimeProvider>(time);
                configure?.Invoke(builder);
            }, CancellationToken.None);
            await app.StartAsync();

            var credentials = await File.ReadAllLinesAsync(System.IO.Path.Combine(directory.Path, "credentials"));
            string Value(string key) => credentials.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split('=', 2)[1].Trim();
            return new FleetkeyTestHost(directory, database, app, time, Value("aws_access_key_id"), Value("aws_secret_access_key"));
        }
        catch
        {
            // A host that failed to start is never disposed by the test: drop its database here.
            if (database is not null)
            {
                await database.DisposeAsync();
            }

            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends requests as they are, unsigned, as if they came in on the device listener (the listener
    /// split tells listeners apart by local port) from <paramref name="remoteAddress"/>.
    /// </summary>
    public HttpClient CreateDeviceClient(System.Net.IPAddress? remoteAddress = null)
    {
        var devicePort = _app.Services.GetRequiredService<ListenerPorts>().DevicePort;
        var handler = _app.GetTestServer().CreateHandler(context =>
        {
            context.Connection.LocalPort = devicePort;
            context.Connection.RemoteIpAddress = remoteAddress;
        });
        return new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
    }

    public HttpClient CreateClient(SigV4Signer signer)
    {
        var client = new HttpClient(new SigningHandler(signer) { InnerHandler = _app.GetTestServer().CreateHandler() })
        {
            BaseAddress = new Uri("http://localhost"),
        };
        return client;
    }

    /// <summary>Sends a signed request with an optional JSON body and returns status and parsed body.</summary>
    public async Task<AwsResponse> SendAsync(HttpMethod method, string pathAndQuery, object? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (body is not null)
        {
            var json = body as string ?? JsonSerializer.Serialize(body);
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await (client ?? Client).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var errorType = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.First() : null;
        return new AwsResponse((int)response.StatusCode, errorType, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        // The store is registered as an instance, so the container does not dispose it: close
        // PostgreSQL's connection pool here before its database is dropped.
        var store = _app.Services.GetRequiredService<IFleetStore>();
        await _app.DisposeAsync();
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

/// <summary>What a control-plane call answered.</summary>
public sealed record AwsResponse(int Status, string? ErrorType, JsonNode? Body)
{
    public string? Message => Body?["message"]?.GetValue<string>();

    public AwsResponse EnsureOk()
    {
        if (Status != 200)
        {
            throw new InvalidOperationException($"Expected 200, got {Status} {ErrorType}: {Message}");
        }

        return this;
    }
}
