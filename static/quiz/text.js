// Every string the quiz page shows, in one place, through Django's JavaScript catalog (/jsi18n/,
// loaded before this file: gettext, ngettext, interpolate). quiz.js fills in %(name)s with
// interpolate; plurals are functions of their count, so that each language gets whole sentences.
// Loaded before quiz.js (both deferred, so in order).
"use strict";

(function () {
  const fill = (text, values) => interpolate(text, values, true);

  window.BACH_OR_BOT_TEXT = Object.freeze({
    hints: {
      S: gettext("In one clip the soprano (the top voice, the melody) was rewritten by the network."),
      A: gettext("In one clip the alto (the second voice from the top) was rewritten by the network."),
      T: gettext("In one clip the tenor (the third voice from the top) was rewritten by the network."),
      B: gettext("In one clip the bass (the lowest voice) was rewritten by the network."),
      AT: gettext("In one clip the alto and tenor (the two middle voices) were rewritten by the network."),
      ATB: gettext("In one clip everything but the melody was rewritten by the network."),
      SATB: gettext("One clip is from a Bach chorale; the other was composed entirely by the network."),
    },
    // Which staves of the network's score are its own (the score has one staff per voice).
    networkVoices: {
      S: gettext("The network wrote the soprano (the top staff); the other three voices are Bach's."),
      A: gettext("The network wrote the alto (the second staff); the other three voices are Bach's."),
      T: gettext("The network wrote the tenor (the third staff); the other three voices are Bach's."),
      B: gettext("The network wrote the bass (the bottom staff); the other three voices are Bach's."),
      AT: gettext("The network wrote the alto and tenor (the two middle staves); soprano and bass are Bach's."),
      ATB: gettext("The network wrote the alto, tenor and bass (the lower three staves); the soprano is Bach's melody."),
      SATB: gettext("The network wrote all four voices (every staff)."),
    },
    questionOf: gettext("Question %(n)s of %(total)s"),
    practiceTitle: gettext("Practice question"),
    practiceStep: gettext("Practice"),
    notHeard: gettext("Not heard yet"),
    loading: gettext("Loading…"),
    playing: gettext("Playing…"),
    paused: gettext("Paused"),
    heard: gettext("Heard to the end"),
    failed: gettext("This clip did not load."),
    play: gettext("Play %(label)s"),
    playAgain: gettext("Play %(label)s again"),
    pause: gettext("Pause %(label)s"),
    playBach: gettext("Play %(label)s (Bach)"),
    playNetwork: gettext("Play %(label)s (the network)"),
    playBoth: gettext("Play both clips to the end; then the answer buttons unlock."),
    bothHeard: gettext("Both clips heard. Which one is Bach?"),
    oneHeard: gettext("Clip %(label)s heard. Now play clip %(other)s to the end."),
    clipFailed: gettext("Clip %(label)s could not be loaded. Check your connection, then try it again."),
    clipBlocked: gettext("Clip %(label)s could not start. Tap its button again."),
    saving: gettext("Saving your answer…"),
    tryAgain: gettext("%(message)s Please try again."),
    right: gettext("Right: that was Bach."),
    wrong: gettext("Not this time."),
    practiceRight: gettext("Practice: right, that was Bach."),
    practiceWrong: gettext("Practice: not this time."),
    revealText: gettext("Bach was clip %(bach)s; you chose clip %(choice)s."),
    practiceNote: gettext("This was practice; it is not counted. Now the real questions."),
    chorale: gettext("Bach's clip is from the chorale BWV %(bwv)s."),
    choraleTitled: gettext("Bach's clip is from the chorale BWV %(bwv)s, %(title)s."),
    choraleUnknown: gettext("Bach's clip is from one of his chorales."),
    captionBach: gettext("Clip %(label)s: Bach"),
    captionNetwork: gettext("Clip %(label)s: the network"),
    scoreAltBach: gettext("Score of clip %(label)s (Bach)"),
    scoreAltNetwork: gettext("Score of clip %(label)s (the network)"),
    correct: gettext("Correct."),
    incorrect: gettext("Incorrect. Bach was clip %(bach)s."),
    next: gettext("Next question"),
    seeResults: gettext("See your results"),
    startReal: gettext("Start the questions"),
    preparing: gettext("Preparing your questions…"),
    results: gettext("Results"),
    resultsText: (correct, answered) =>
      fill(
        ngettext(
          "You found Bach in %(correct)s of %(answered)s question.",
          "You found Bach in %(correct)s of %(answered)s questions.",
          answered,
        ),
        { correct: correct, answered: answered },
      ),
    recapRight: gettext("%(category)s: you found Bach. Bach was clip %(bach)s."),
    recapWrong: gettext("%(category)s: you chose the network. Bach was clip %(bach)s."),
    noAnswers: gettext("no answers yet"),
    // Everyone's share that found Bach in a kind of question, out of how many answers.
    everyone: (percent, answers) =>
      fill(ngettext("%(percent)s of %(n)s answer", "%(percent)s of %(n)s answers", answers), {
        percent: percent,
        n: answers,
      }),
    // One line of the score distribution: how many people scored this many out of five.
    scoreLine: (score, people, yours) =>
      fill(
        yours
          ? ngettext("%(score)s of 5: %(n)s person (you)", "%(score)s of 5: %(n)s people (you)", people)
          : ngettext("%(score)s of 5: %(n)s person", "%(score)s of 5: %(n)s people", people),
        { score: score, n: people },
      ),
    copied: gettext("Link copied."),
    copyFailed: gettext("Copy the link by hand: %(url)s"),
    soundPlaying: gettext("Playing the test sound…"),
    soundPlayed: gettext("Played. Did you hear a chord?"),
    soundFailed: gettext("The test sound could not be played."),
    soundHelp: gettext("See the tips below, then play the test sound again."),
    aboutYou: gettext("About you"),
    yours: gettext("%(correct)s of %(answered)s"),
    consentFirst: gettext("Please tick the box to agree before starting."),
    backgroundFirst: gettext("Please choose your age group and your experience with music."),
    guardianFirst: gettext("A parent or guardian must agree too: please ask them and tick the box."),
    withdrawn: (answers) =>
      fill(
        ngettext(
          "You have withdrawn from the study. Your %(n)s answer and your background answers are deleted. Thank you for listening.",
          "You have withdrawn from the study. Your %(n)s answers and your background answers are deleted. Thank you for listening.",
          answers,
        ),
        { n: answers },
      ),
    deleted: gettext("Your answers have been deleted."),
    somethingWrong: gettext("Something went wrong (%(status)s)."),
  });
})();
