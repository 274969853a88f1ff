using Fleetkey.Api.Authentication;
using Fleetkey.Api.Endpoints;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Pki;
using Fleetkey.Services.Access;
using Fleetkey.Services.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Hosting;

public static class ApiHostingExtensions
{
    /// <summary>Registers the control plane: options, SigV4 over the store's access keys.</summary>
    public static IServiceCollection AddFleetkeyApi(this IServiceCollection services, Action<ApiOptions> configure)
    {
        services.AddOptions<ApiOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        services.AddSigV4Authentication();
        services.AddSingleton<ISigningSecretProvider, AccessKeySecretProvider>();

        // The scope of ARNs rendered outside a signed request: the device endpoint has no SigV4 region,
        // so the enrollments it resolves carry ARNs in the default region.
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ApiOptions>>().Value;
            return new IotScope(options.DefaultRegion, options.AccountId);
        });

        // Page tokens are sealed with a secret every node sharing the database derives alike from the CA
        // key it loads, so a token outlives a restart, another node and an export/import, and needs no schema.
        services.TryAddSingleton(provider => new PageTokens(provider.GetRequiredService<CertificateAuthority>().DeriveSecret("page-tokens")));
        return services;
    }

    /// <summary>
    /// The control-plane pipeline: errors rendered the AWS way around everything, then routing,
    /// then SigV4 on every route not marked anonymous.
    /// </summary>
    public static WebApplication UseFleetkeyApi(this WebApplication app)
    {
        if (app.Services.GetService<ServerActivity>() is { } activity)
        {
            // Background work (the device key pool) waits for the server to be idle.
            app.Use(async (context, next) =>
            {
                activity.RequestStarted();
                try
                {
                    await next(context);
                }
                finally
                {
                    activity.RequestEnded();
                }
            });
        }

        app.UseMiddleware<AuditMiddleware>();
        app.UseMiddleware<AwsErrorMiddleware>();
        app.UseRouting();
        app.UseSigV4Authentication();
        app.MapHealth();
        app.MapThings();
        app.MapThingTypes();
        app.MapThingGroups();
        app.MapTags();
        app.MapDescribeEndpoint();
        app.MapCertificates();
        app.MapCaCertificates();
        app.MapThingPrincipals();
        app.MapPolicies();
        app.MapProvisioning();
        app.MapDeviceEndpoint();
        app.MapEst();
        app.MapRevocation();
        app.MapProvisioningTemplates();
        app.MapEnrollments();
        app.MapExpiringCertificates();
        app.MapAccessKeys();
        app.MapAudit();
        return app;
    }

    /// <summary>The secrets of active keys; a disabled key signs nothing (it reads as unknown, as on AWS).</summary>
    private sealed class AccessKeySecretProvider(AccessKeyService keys, TimeProvider time) : ISigningSecretProvider
    {
        public async ValueTask<string?> FindSecretAsync(string accessKeyId, CancellationToken cancellationToken) =>
            await keys.FindForRequestAsync(accessKeyId, cancellationToken) is { Status: Core.Registry.AccessKey.Active } key ? key.SecretAccessKey : null;

        public async ValueTask<string?> FindPreviousSecretAsync(string accessKeyId, CancellationToken cancellationToken) =>
            await keys.FindForRequestAsync(accessKeyId, cancellationToken) is { Status: Core.Registry.AccessKey.Active, PreviousSecretAccessKey: { } previous } key
                && key.PreviousSecretExpiresAt > time.GetUtcNow()
                ? previous
                : null;
    }
}
