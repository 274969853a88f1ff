using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

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

    internal static IReadOnlyList<Tag> ToTags(List<TagDto>? tags) =>
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
        var items = page.Items.Select(t => new TagDto(t.Key, t.Value)).ToList();
        return TypedResults.Json(new ListTagsForResourceResponse(items, request.NextToken(page)), ApiJsonContext.Default.ListTagsForResourceResponse);
    }
}
