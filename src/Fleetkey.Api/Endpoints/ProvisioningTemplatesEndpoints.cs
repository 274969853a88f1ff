using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Provisioning;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ProvisioningTemplatesEndpoints
{
    public static IEndpointRouteBuilder MapProvisioningTemplates(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateProvisioningTemplate", CreateProvisioningTemplate);
        routes.MapAws("DescribeProvisioningTemplate", DescribeProvisioningTemplate);
        routes.MapAws("UpdateProvisioningTemplate", UpdateProvisioningTemplate);
        routes.MapAws("DeleteProvisioningTemplate", DeleteProvisioningTemplate);
        routes.MapAws("ListProvisioningTemplates", ListProvisioningTemplates);
        routes.MapAws("CreateProvisioningTemplateVersion", CreateProvisioningTemplateVersion);
        routes.MapAws("DescribeProvisioningTemplateVersion", DescribeProvisioningTemplateVersion);
        routes.MapAws("ListProvisioningTemplateVersions", ListProvisioningTemplateVersions);
        routes.MapAws("DeleteProvisioningTemplateVersion", DeleteProvisioningTemplateVersion);
        return routes;
    }

    private static string TemplateArn(IotScope scope, string name) => Arn.For(scope, ResourceKind.ProvisioningTemplate, name);

    private static ProvisioningTemplateService.Hook? ToHook(ProvisioningHookDto? hook) =>
        hook is null ? null : new ProvisioningTemplateService.Hook(hook.TargetArn, hook.PayloadVersion);

    private static async Task<JsonHttpResult<CreateProvisioningTemplateResponse>> CreateProvisioningTemplate(
        AwsRequest<CreateProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var created = await templates.CreateAsync(
            new ProvisioningTemplateService.NewTemplate(
                input.TemplateName,
                input.TemplateBody,
                input.ProvisioningRoleArn,
                input.Description,
                input.Enabled,
                input.Type,
                ToHook(input.PreProvisioningHook),
                TagsEndpoints.ToTags(input.Tags)),
            cancellationToken);
        var template = created.Template;
        return TypedResults.Json(
            new CreateProvisioningTemplateResponse(TemplateArn(request.Scope, template.Name), template.Name, template.DefaultVersionId),
            ApiJsonContext.Default.CreateProvisioningTemplateResponse);
    }

    private static async Task<JsonHttpResult<DescribeProvisioningTemplateResponse>> DescribeProvisioningTemplate(
        AwsRequest<ProvisioningTemplateNameRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var (template, version) = await templates.DescribeAsync(request.Input.TemplateName, cancellationToken);
        return TypedResults.Json(
            new DescribeProvisioningTemplateResponse(
                TemplateArn(request.Scope, template.Name),
                template.Name,
                template.Description,
                template.CreatedAt,
                template.LastModifiedAt,
                template.DefaultVersionId,
                version.Body,
                template.Enabled,
                template.ProvisioningRoleArn,
                template.HookTargetArn is { } target ? new ProvisioningHookDto(template.HookPayloadVersion, target) : null,
                template.Type),
            ApiJsonContext.Default.DescribeProvisioningTemplateResponse);
    }

    private static async Task<ContentHttpResult> UpdateProvisioningTemplate(
        AwsRequest<UpdateProvisioningTemplateRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await templates.UpdateAsync(
            input.TemplateName,
            new ProvisioningTemplateService.TemplateUpdate(
                input.Description,
                input.Enabled,
                input.DefaultVersionId,
                input.ProvisioningRoleArn,
                ToHook(input.PreProvisioningHook),
                input.RemovePreProvisioningHook ?? false),
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeleteProvisioningTemplate(
        AwsRequest<ProvisioningTemplateNameRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        await templates.DeleteAsync(request.Input.TemplateName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListProvisioningTemplatesResponse>> ListProvisioningTemplates(
        AwsRequest<ListProvisioningTemplatesRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await templates.ListAsync(request.Page(input.MaxResults), cancellationToken);
        var items = page.Items
            .Select(t => new ProvisioningTemplateSummary(TemplateArn(request.Scope, t.Name), t.Name, t.Description, t.CreatedAt, t.LastModifiedAt, t.Enabled, t.Type))
            .ToList();
        return TypedResults.Json(new ListProvisioningTemplatesResponse(items, request.NextToken(page)), ApiJsonContext.Default.ListProvisioningTemplatesResponse);
    }

    private static async Task<JsonHttpResult<CreateProvisioningTemplateVersionResponse>> CreateProvisioningTemplateVersion(
        AwsRequest<CreateProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (version, isDefault) = await templates.CreateVersionAsync(input.TemplateName, input.TemplateBody, input.SetAsDefault ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateProvisioningTemplateVersionResponse(TemplateArn(request.Scope, input.TemplateName), input.TemplateName, version.VersionId, isDefault),
            ApiJsonContext.Default.CreateProvisioningTemplateVersionResponse);
    }

    private static async Task<JsonHttpResult<DescribeProvisioningTemplateVersionResponse>> DescribeProvisioningTemplateVersion(
        AwsRequest<ProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var (template, version) = await templates.DescribeVersionAsync(request.Input.TemplateName, request.Input.VersionId, cancellationToken);
        return TypedResults.Json(
            new DescribeProvisioningTemplateVersionResponse(version.VersionId, version.CreatedAt, version.Body, version.VersionId == template.DefaultVersionId),
            ApiJsonContext.Default.DescribeProvisioningTemplateVersionResponse);
    }

    private static async Task<JsonHttpResult<ListProvisioningTemplateVersionsResponse>> ListProvisioningTemplateVersions(
        AwsRequest<ListProvisioningTemplateVersionsRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (template, page) = await templates.ListVersionsAsync(input.TemplateName, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items
            .Select(v => new ProvisioningTemplateVersionSummary(v.VersionId, v.CreatedAt, v.VersionId == template.DefaultVersionId))
            .ToList();
        return TypedResults.Json(new ListProvisioningTemplateVersionsResponse(items, request.NextToken(page)), ApiJsonContext.Default.ListProvisioningTemplateVersionsResponse);
    }

    private static async Task<ContentHttpResult> DeleteProvisioningTemplateVersion(
        AwsRequest<ProvisioningTemplateVersionRequest> request, ProvisioningTemplateService templates, CancellationToken cancellationToken)
    {
        await templates.DeleteVersionAsync(request.Input.TemplateName, request.Input.VersionId, cancellationToken);
        return AwsResults.Empty();
    }
}
