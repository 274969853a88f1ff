using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Fleetkey.Api.Authentication;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Hosting;
using Fleetkey.Core.Naming;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Wire;

/// <summary>
/// A handler parameter holding an operation's validated input and the caller's scope. Minimal APIs
/// bind it through <see cref="BindAsync"/>: the operation comes from the endpoint's metadata.
/// </summary>
internal sealed class AwsRequest<T>
    where T : class
{
    private AwsRequest(T input, IotScope scope)
    {
        Input = input;
        Scope = scope;
    }

    public T Input { get; }

    public IotScope Scope { get; }

    public static async ValueTask<AwsRequest<T>?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var operation = context.GetEndpoint()?.Metadata.GetMetadata<OperationModel>()
            ?? throw new InvalidOperationException($"{parameter.Name} is bound outside an AWS operation endpoint.");
        var json = await RequestBinder.BindAsync(context, operation, ServiceModel.Iot);
        var typeInfo = (JsonTypeInfo<T>)ApiJsonContext.Default.GetTypeInfo(typeof(T))!;
        var input = json.Deserialize(typeInfo)!;
        return new AwsRequest<T>(input, AwsScope.Of(context));
    }
}

internal static class AwsScope
{
    /// <summary>The caller's scope: the region it signed for and this installation's account.</summary>
    public static IotScope Of(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
        var region = context.Features.Get<SigV4Identity>()?.Region ?? options.DefaultRegion;
        return new IotScope(region, options.AccountId);
    }
}
