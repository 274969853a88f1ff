using Fleetkey.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Fleetkey.Client with dependency injection.</summary>
public static class FleetkeyClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IIotClient"/> as a typed client of <c>IHttpClientFactory</c>, and
    /// <see cref="DeviceRegistrar"/> over it (its template from <see cref="DeviceRegistrarOptions"/>).
    /// Endpoint, region and credentials come from <paramref name="configure"/> and the
    /// <see cref="IotClientOptions"/> bound to configuration, else from the environment and the AWS
    /// files as <see cref="IotClientOptions"/> describes; they are resolved once, at the first client.
    /// </summary>
    /// <returns>The HTTP client's builder, to add handlers or set its timeout.</returns>
    public static IHttpClientBuilder AddFleetkeyClient(this IServiceCollection services, Action<IotClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<IotClientOptions>()
            .Validate(static o => o.MaxAttempts >= 1, "IotClientOptions.MaxAttempts must be at least 1.")
            .Validate(static o => o.BaseRetryDelay >= TimeSpan.Zero && o.MaxRetryDelay >= TimeSpan.Zero, "IotClientOptions retry delays may not be negative.");
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddOptions<DeviceRegistrarOptions>();
        services.TryAddSingleton(static sp => ClientConfiguration.Resolve(sp.GetRequiredService<IOptions<IotClientOptions>>().Value));
        services.TryAddTransient(static sp => new DeviceRegistrar(sp.GetRequiredService<IIotClient>(), sp.GetRequiredService<IOptions<DeviceRegistrarOptions>>().Value));
        return services.AddHttpClient<IIotClient, IotClient>(static (http, sp) => new IotClient(
            http,
            sp.GetRequiredService<IOptions<IotClientOptions>>().Value,
            sp.GetRequiredService<ClientConfiguration>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<IotClient>>()))
            .ConfigurePrimaryHttpMessageHandler(static sp => ClientHandler.Create(sp.GetRequiredService<ClientConfiguration>()));
    }
}
