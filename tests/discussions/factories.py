import factory
from django.db.models import F

from discussions import markdown
from discussions.models import Reply, Thread
from tests.factories import UserFactory


class ThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thread

    kind = Thread.Kind.QUESTION
    title = factory.Sequence(lambda n: f"How do you roll out feature {n}?")
    body = "We are rolling it out next month. **Any tips?**"
    body_html = factory.LazyAttribute(lambda o: markdown.render(o.body))
    author = factory.SubFactory(UserFactory)


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reply
        skip_postgeneration_save = True

    thread = factory.SubFactory(ThreadFactory)
    body = "Start with a pilot team."
    body_html = factory.LazyAttribute(lambda o: markdown.render(o.body))
    author = factory.SubFactory(UserFactory)

    @factory.post_generation
    def counted(self, create: bool, extracted: object, **kwargs: object) -> None:
        # As discussions.services.reply_create keeps it.
        if create and self.hidden_at is None:
            Thread.objects.filter(pk=self.thread_id).update(reply_count=F("reply_count") + 1)
