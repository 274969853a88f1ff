using Fleetkey.Core.Registry;
using Xunit;

namespace Fleetkey.Core.Tests.Registry;

public sealed class ThingGroupTests
{
    private static ThingGroup Group(string path) =>
        new(path.Split('/')[^1], "id", null, path, null, new Dictionary<string, string>(), 1, DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData("root", 1)]
    [InlineData("root/child", 2)]
    [InlineData("a/b/c/d/e/f/g", 7)]
    public void Depth_Path_CountsLevels(string path, int depth)
    {
        Assert.Equal(depth, Group(path).Depth);
    }

    [Theory]
    [InlineData("root", "root")]
    [InlineData("root/child", "root")]
    [InlineData("a/b/c/d/e/f/g", "a")]
    public void RootName_Path_IsFirstSegment(string path, string root)
    {
        Assert.Equal(root, Group(path).RootName);
    }

    [Fact]
    public void Ancestors_RootGroup_IsEmpty()
    {
        Assert.Empty(Group("root").Ancestors);
    }

    [Fact]
    public void Ancestors_DeepGroup_AreRootFirstWithoutSelf()
    {
        Assert.Equal(["a", "b", "c"], Group("a/b/c/d").Ancestors);
    }

    [Fact]
    public void Ancestors_ChildOfRoot_IsRootOnly()
    {
        Assert.Equal(["root:1"], Group("root:1/child:2").Ancestors);
    }
}
