using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleetkey.Api.Authentication;

/// <summary>Registration of the control-plane SigV4 authentication.</summary>
public static class SigV4AuthenticationExtensions
{
    /// <summary>
    /// Registers <see cref="SigV4Options"/> (validated at start) and <see cref="TimeProvider.System"/>
    /// unless a <see cref="TimeProvider"/> is already registered. The caller registers an
    /// <see cref="ISigningSecretProvider"/>.
    /// </summary>
    public static IServiceCollection AddSigV4Authentication(this IServiceCollection services, Action<SigV4Options>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<SigV4Options>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(static o => o.MaxBodyBytes > 0, "SigV4Options.MaxBodyBytes must be positive.")
            .Validate(static o => !string.IsNullOrWhiteSpace(o.Service), "SigV4Options.Service must be set.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// Adds the SigV4 middleware. Call it after <c>UseRouting</c> (it skips endpoints marked
    /// <c>AllowAnonymous</c>) and after the middleware that renders <c>ServiceException</c>.
    /// </summary>
    public static IApplicationBuilder UseSigV4Authentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<SigV4AuthenticationMiddleware>();
    }

    /// <summary>The verified signer of the request; only on endpoints behind the SigV4 middleware.</summary>
    public static SigV4Identity GetSigV4Identity(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<SigV4Identity>()
            ?? throw new InvalidOperationException("The request was not authenticated by the SigV4 middleware.");
    }
}
