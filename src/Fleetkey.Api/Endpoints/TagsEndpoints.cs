using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Tag = Fleetkey.Core.Registry.Tag;

namespace Fleetkey.Api.Endpoints;

internal static class TagsEndpoints
{
    public static IEndpointRouteBuilder MapTags(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("TagResource", TagResource);
        routes.MapAws("UntagResource", UntagResource);
        routes.MapAws("ListTagsForResource", ListTagsForResource);
        return routes;
    }

    internal static IReadOnlyList<Tag> ToTags(IReadOnlyList<Contracts.Tag>? tags) =>
        tags?.Select(t => new Tag(t.Key, t.Value ?? string.Empty)).ToList() ?? [];

    private static async Task<ContentHttpResult> TagResource(AwsRequest<TagResourceRequest> request, TagService tags, CancellationToken cancellationToken)
    {
        await tags.TagAsync(request.Scope, request.Input.ResourceArn, ToTags(request.Input.Tags), cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> UntagResource(AwsRequest<UntagResourceRequest> request, TagService tags, CancellationToken cancellationToken)
    {
        await tags.UntagAsync(request.Scope, request.Input.ResourceArn, request.Input.TagKeys, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListTagsForResourceResponse>> ListTagsForResource(AwsRequest<ListTagsForResourceRequest> request, TagService tags, CancellationToken cancellationToken)
    {
        var page = await tags.ListAsync(request.Scope, request.Input.ResourceArn, request.Page(null), cancellationToken);
        var items = page.Items.Select(t => new Contracts.Tag { Key = t.Key, Value = t.Value }).ToList();
        return TypedResults.Json(new ListTagsForResourceResponse { Tags = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListTagsForResourceResponse);
    }
}
