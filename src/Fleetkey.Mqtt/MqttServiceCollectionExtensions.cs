using Microsoft.Extensions.DependencyInjection;

namespace Fleetkey.Mqtt;

public static class MqttServiceCollectionExtensions
{
    /// <summary>
    /// Runs the MQTT broker with the host (mutual TLS on <see cref="MqttBrokerOptions.Port"/>). Needs the
    /// application layer, the <c>CertificateAuthority</c>, the <c>ServerCertificateProvider</c> and a <c>System.Diagnostics.Metrics.Meter</c>.
    /// </summary>
    public static IServiceCollection AddFleetkeyMqtt(this IServiceCollection services, Action<MqttBrokerOptions> configure)
    {
        services.AddOptions<MqttBrokerOptions>()
            .Configure(configure)
            .Validate(o => o.Port is > 0 and <= 65535, "The MQTT port must be between 1 and 65535.")
            .Validate(o => o.RevocationPollInterval > TimeSpan.Zero, "The revocation poll interval must be positive.")
            .Validate(o => o.Validate().Count == 0, "The MQTT limits are out of range (see MqttBrokerOptions.Validate).")
            .ValidateOnStart();
        services.AddSingleton<AuthorizationCache>();
        services.AddSingleton<BrokerMetrics>();
        services.AddSingleton<MqttNetLogBridge>();
        services.AddSingleton<JustInTimeConnections>();
        services.AddSingleton<ClientCertificateVerifier>();
        services.AddSingleton<CertificateAdmission>();
        services.AddSingleton<DeviceTlsHandshake>();
        services.AddSingleton<ConnectionLimiter>();
        services.AddSingleton<RetainedMessageBudget>();
        services.AddHostedService<RegisteredCaRefresher>();
        services.AddSingleton<BrokerServer>();
        services.AddSingleton<BrokerTasks>();
        services.AddSingleton<DeviceSessions>();
        services.AddSingleton<ConnectValidator>();
        services.AddSingleton<ConnectionObservers>();
        services.AddSingleton<SessionLifecycle>();
        services.AddSingleton<FleetProvisioningHandler>();
        services.AddSingleton<PolicyEnforcement>();
        services.AddSingleton<RevocationMonitor>();
        services.AddHostedService<MqttBroker>();
        return services;
    }
}
